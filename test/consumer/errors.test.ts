import { describe, expect, it } from 'vitest'
import { Consumer } from '../../src/consumer/consumer'
import { expectCode, expectSyncCode } from '../engine/helpers'
import { openEnv, produce, settle, track, values } from './helpers'

const P0 = { topic: 't', partition: 0 }

describe('Consumer > bad input', () => {
  it('assigning an unknown topic or partition is ERR_UNKNOWN_TOPIC_OR_PARTITION and leaves the assignment as it was', async () => {
    const env = await openEnv({ t: 2 })
    const consumer = env.consumer()
    consumer.assign([P0])

    expectSyncCode(() => consumer.assign([P0, { topic: 'nope', partition: 0 }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    expectSyncCode(() => consumer.assign([{ topic: 't', partition: 2 }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    expectSyncCode(() => consumer.addPartitions([{ topic: 't', partition: 1 }, { topic: 't', partition: 9 }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')

    expect(consumer.assignment()).toEqual([P0])
  })

  it.each([
    ['a negative offset', -1],
    ['NaN', Number.NaN],
    ['a fraction', 1.5],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '3'],
  ])('seek to %s is ERR_INVALID_ARGUMENT and the position is unchanged', async (_name, bad) => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    const consumer = env.consumer()
    consumer.assign([P0])
    consumer.seek(P0, 1)

    expectSyncCode(() => consumer.seek(P0, bad as number), 'ERR_INVALID_ARGUMENT')

    expect(consumer.position(P0)).toBe(1)
  })

  it('a negative committed offset in addPartitions is ERR_INVALID_ARGUMENT and nothing is added', async () => {
    const env = await openEnv({ t: 2 })
    const consumer = env.consumer()
    expectSyncCode(
      () =>
        consumer.addPartitions([
          { topic: 't', partition: 0, offset: 0 },
          { topic: 't', partition: 1, offset: -5 },
        ]),
      'ERR_INVALID_ARGUMENT',
    )
    expect(consumer.assignment()).toEqual([])
  })

  it('seek, position, pause and resume on an unassigned partition are ERR_NOT_ASSIGNED', async () => {
    const env = await openEnv({ t: 2 })
    const consumer = env.consumer()
    consumer.assign([P0])
    const other = { topic: 't', partition: 1 }

    const error = expectSyncCode(() => consumer.seek(other, 0), 'ERR_NOT_ASSIGNED')
    expect(error).toMatchObject({ topic: 't', partition: 1 })
    expectSyncCode(() => consumer.position(other), 'ERR_NOT_ASSIGNED')
    expectSyncCode(() => consumer.pause([P0, other]), 'ERR_NOT_ASSIGNED')
    expect(consumer.paused()).toEqual([])
    expectSyncCode(() => consumer.resume([other]), 'ERR_NOT_ASSIGNED')
  })

  it.each([
    ['not an array', { topic: 't', partition: 0 }],
    ['a missing topic', [{ partition: 0 }]],
    ['a negative partition', [{ topic: 't', partition: -1 }]],
    ['a fractional partition', [{ topic: 't', partition: 0.5 }]],
    ['null', [null]],
  ])('assign with %s is ERR_INVALID_ARGUMENT', async (_name, bad) => {
    const env = await openEnv()
    const consumer = env.consumer()
    expectSyncCode(() => consumer.assign(bad as never), 'ERR_INVALID_ARGUMENT')
    expect(consumer.assignment()).toEqual([])
  })

  it.each([
    ['maxRecords 0', { maxRecords: 0 }],
    ['maxRecords NaN', { maxRecords: Number.NaN }],
    ['a negative timeoutMs', { timeoutMs: -1 }],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }],
  ])('poll with %s is ERR_INVALID_ARGUMENT', async (_name, bad) => {
    const env = await openEnv()
    const consumer = env.consumer()
    await expectCode(() => consumer.poll(bad), 'ERR_INVALID_ARGUMENT')
  })

  it('offsetsForTimes with a negative timestamp is ERR_INVALID_ARGUMENT; with an unknown topic ERR_UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    expectSyncCode(() => consumer.offsetsForTimes([{ ...P0, timestamp: -1 }]), 'ERR_INVALID_ARGUMENT')
    expectSyncCode(() => consumer.offsetsForTimes([{ topic: 'x', partition: 0, timestamp: 1 }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('an invalid config is ERR_INVALID_CONFIG naming the key', async () => {
    const env = await openEnv()
    const error = expectSyncCode(() => env.consumer({ maxPollRecords: 0 }), 'ERR_INVALID_CONFIG')
    expect(error.message).toContain('maxPollRecords')
  })

  it('a second concurrent poll is ERR_INVALID_STATE and does not disturb the first', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const first = track(consumer.poll({ timeoutMs: 1000 }))
    await settle()

    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_INVALID_STATE')
    await produce(env, 't', 0, ['x'])
    await settle()

    expect(values(first.value()!)).toEqual(['x'])
  })

  it('a poll on a deleted topic is ERR_UNKNOWN_TOPIC_OR_PARTITION, not silence', async () => {
    const env = await openEnv({ t: 1, gone: 1 })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 'gone', partition: 0 }])
    await env.engine.deleteTopic('gone')

    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
  })
})

describe('Consumer > close', () => {
  it('is idempotent and every method afterwards is ERR_CLOSED', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    consumer.assign([P0])
    const a = consumer.close()
    const b = consumer.close()
    expect(a).toBe(b)
    await a
    expect(consumer.state).toBe('closed')

    const sync: [string, () => unknown][] = [
      ['assign', () => consumer.assign([P0])],
      ['addPartitions', () => consumer.addPartitions([P0])],
      ['removePartitions', () => consumer.removePartitions([P0])],
      ['assignment', () => consumer.assignment()],
      ['position', () => consumer.position(P0)],
      ['positions', () => consumer.positions()],
      ['seek', () => consumer.seek(P0, 0)],
      ['seekToBeginning', () => consumer.seekToBeginning()],
      ['seekToEnd', () => consumer.seekToEnd()],
      ['pause', () => consumer.pause([P0])],
      ['resume', () => consumer.resume([P0])],
      ['paused', () => consumer.paused()],
      ['offsetsForTimes', () => consumer.offsetsForTimes([{ ...P0, timestamp: 0 }])],
      ['beginningOffsets', () => consumer.beginningOffsets([P0])],
      ['endOffsets', () => consumer.endOffsets([P0])],
      ['iterator', () => consumer[Symbol.asyncIterator]()],
      ['wakeup', () => consumer.wakeup()],
      ['nudge', () => consumer.nudge()],
      ['on', () => consumer.on('offsetReset', () => undefined)],
      ['offsetResetTotals', () => consumer.offsetResetTotals()],
    ]
    for (const [name, call] of sync) {
      try {
        expectSyncCode(call, 'ERR_CLOSED')
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`)
      }
    }
    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_CLOSED')
    await expectCode(() => consumer.run({ eachMessage: async () => undefined }), 'ERR_CLOSED')
    await expectCode(() => consumer.stop(), 'ERR_CLOSED')
  })

  it('resolves a waiting poll with no records', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    consumer.assign([P0])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()

    await consumer.close()
    await settle()

    expect(poll.value()).toEqual([])
  })

  it('ends a running loop, which resolves', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    consumer.assign([P0])
    const run = track(consumer.run({ eachMessage: async () => undefined }))
    await settle()

    await consumer.close()
    await settle()

    expect(run.settled()).toBe(true)
    expect(run.error()).toBeUndefined()
  })

  it('closing the engine closes the consumer', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    await env.engine.close()
    expect(consumer.state).toBe('closed')
  })

  it('cannot be created on a closed engine', async () => {
    const env = await openEnv()
    await env.engine.close()
    expectSyncCode(() => new Consumer(env.engine), 'ERR_CLOSED')
  })
})

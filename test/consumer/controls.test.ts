import { describe, expect, it } from 'vitest'
import { offsets, openEnv, produce, values } from './helpers'

const P0 = { topic: 't', partition: 0 }
const P1 = { topic: 't', partition: 1 }

describe('Consumer > pause and resume', () => {
  it('a paused partition returns nothing while the others go on; resume continues from its position', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a0', 'a1'])
    await produce(env, 't', 1, ['b0'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 1 })
    consumer.assign([P0, P1])
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a0'])

    consumer.pause([P0])
    expect(consumer.paused()).toEqual([P0])
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['b0'])
    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([])

    consumer.resume([P0])
    expect(consumer.paused()).toEqual([])
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a1'])
  })
})

describe('Consumer > seek and position', () => {
  it('seek moves the position backwards and forwards; position reports the next offset', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['r0', 'r1', 'r2', 'r3'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    expect(consumer.position(P0)).toBe(0)
    await consumer.poll({ timeoutMs: 0 })
    expect(consumer.position(P0)).toBe(4)

    consumer.seek(P0, 1)
    expect(consumer.position(P0)).toBe(1)
    expect(values(await consumer.poll({ maxRecords: 1, timeoutMs: 0 }))).toEqual(['r1'])
    consumer.seek(P0, 3)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['r3'])
  })

  it('a seek drops records already fetched into the buffer for the old position', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['r0', 'r1', 'r2', 'r3', 'r4'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    expect(offsets(await consumer.poll({ maxRecords: 2, timeoutMs: 0 }))).toEqual([0, 1])

    consumer.seek(P0, 0)

    expect(offsets(await consumer.poll({ timeoutMs: 0 }))).toEqual([0, 1, 2, 3, 4])
  })

  it('seekToBeginning and seekToEnd use the log start offset and the high watermark', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a', 'b', 'c'])
    await produce(env, 't', 1, ['x'])
    env.engine.log('t', 0).advanceLogStartOffset(1)
    const consumer = env.consumer({ autoOffsetReset: 'none' })
    consumer.assign([P0, P1])

    consumer.seekToBeginning()
    expect([consumer.position(P0), consumer.position(P1)]).toEqual([1, 0])
    consumer.seekToEnd([P1])
    expect([consumer.position(P0), consumer.position(P1)]).toEqual([1, 1])
  })

  it('assign keeps the positions of partitions that stay and forgets those that leave', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a', 'b'])
    await produce(env, 't', 1, ['x', 'y'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0, P1])
    consumer.seek(P0, 1)
    consumer.seek(P1, 2)

    consumer.assign([P1])
    expect(consumer.assignment()).toEqual([P1])
    expect(consumer.position(P1)).toBe(2)
    consumer.assign([P0, P1])
    expect(consumer.position(P0)).toBe(0)
  })
})

describe('Consumer > offsets', () => {
  it('offsetsForTimes finds the earliest offset at or after a timestamp, or null', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a', 'b'], { timestamp: 1000 })
    await produce(env, 't', 0, ['c'], { timestamp: 5000 })
    const consumer = env.consumer()

    expect(
      consumer.offsetsForTimes([
        { ...P0, timestamp: 1001 },
        { ...P0, timestamp: 2000 },
        { ...P1, timestamp: 0 },
      ]),
    ).toEqual([
      { ...P0, offset: 1, timestamp: 1001 },
      { ...P0, offset: 2, timestamp: 5000 },
      { ...P1, offset: null, timestamp: null },
    ])
  })

  it('beginningOffsets and endOffsets report the log start offset and the high watermark', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    env.engine.log('t', 0).advanceLogStartOffset(2)
    await produce(env, 't', 0, ['unflushed'], { noFlush: true })
    const consumer = env.consumer()

    expect(consumer.beginningOffsets([P0])).toEqual([{ ...P0, offset: 2 }])
    expect(consumer.endOffsets([P0])).toEqual([{ ...P0, offset: 3 }])
  })
})

import { describe, expect, it } from 'vitest'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { offsets, openEnv, produce, settle, track, values } from './helpers'

describe('Consumer > poll > waiting for data', () => {
  it('a waiting poll resolves as soon as an append is flushed, with no clock advance', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 60_000 }))
    await settle()
    expect(poll.settled()).toBe(false)
    expect(consumer.pollInProgress).toBe(true)

    const before = env.clock.now()
    await produce(env, 't', 0, ['new'])
    await settle()

    expect(poll.settled()).toBe(true)
    expect(values(poll.value()!)).toEqual(['new'])
    expect(env.clock.now()).toBe(before)
    expect(consumer.pollInProgress).toBe(false)
  })

  it('does not wake for records that are appended but not yet visible (fsync durability)', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 1000 }))
    await settle()
    env.engine.log('t', 0).append(encodeRecordBatch({ records: [{ key: null, value: Buffer.from('x'), timestamp: 1 }] }))
    expect(poll.settled()).toBe(false)
    await env.engine.log('t', 0).flush()
    await settle()
    expect(values(poll.value()!)).toEqual(['x'])
  })

  it('times out per timeoutMs on the injected clock and resolves with no records', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const engineTimers = env.clock.pendingTimers()
    const poll = track(consumer.poll({ timeoutMs: 1000 }))
    await settle()
    expect(env.clock.pendingTimers()).toBe(engineTimers + 1)

    env.clock.advance(999)
    await settle()
    expect(poll.settled()).toBe(false)
    env.clock.advance(1)
    await settle()
    expect(poll.settled()).toBe(true)
    expect(poll.value()).toEqual([])
    expect(env.clock.pendingTimers()).toBe(engineTimers)
  })

  it('waits on every assigned partition and wakes for any of them', async () => {
    const env = await openEnv({ t: 3 })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([0, 1, 2].map((partition) => ({ topic: 't', partition })))
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()

    await produce(env, 't', 2, ['p2'])
    await settle()

    expect(poll.value()!.map((r) => r.partition)).toEqual([2])
  })

  it('does not wake for a paused partition, and wakes when it is resumed', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    consumer.pause([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()
    await produce(env, 't', 0, ['held'])
    await settle()
    expect(poll.settled()).toBe(false)

    consumer.resume([{ topic: 't', partition: 0 }])
    await settle()

    expect(values(poll.value()!)).toEqual(['held'])
  })

  it('wakes when the assignment changes to a partition with data', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 1, ['there'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()

    consumer.assign([{ topic: 't', partition: 1 }])
    await settle()

    expect(values(poll.value()!)).toEqual(['there'])
  })

  it('wakes when a seek moves the position back to existing records', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    const consumer = env.consumer({ autoOffsetReset: 'latest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()
    expect(poll.settled()).toBe(false)

    consumer.seek({ topic: 't', partition: 0 }, 1)
    await settle()

    expect(offsets(poll.value()!)).toEqual([1])
  })

  it('wakeup() ends a waiting poll at once with no records; the next poll waits again', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    consumer.assign([{ topic: 't', partition: 0 }])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()

    consumer.wakeup()
    await settle()

    expect(poll.value()).toEqual([])
    const next = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()
    expect(next.settled()).toBe(false)
    env.clock.advance(10_000)
    await settle()
    expect(next.value()).toEqual([])
  })

  it('waits with no partitions assigned, and an assignment wakes it', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['first'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()
    expect(poll.settled()).toBe(false)

    consumer.assign([{ topic: 't', partition: 0 }])
    await settle()

    expect(values(poll.value()!)).toEqual(['first'])
  })

  it('leaves no timer behind after a poll ends, and keeps one listener per assigned partition until it is unassigned', async () => {
    const env = await openEnv({ t: 2 })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    const log = env.engine.log('t', 0)
    const listeners = (): number => (log as unknown as { hwListeners: Set<unknown> }).hwListeners.size
    const engineTimers = env.clock.pendingTimers()
    for (const value of ['x', 'y']) {
      const poll = track(consumer.poll({ timeoutMs: 5000 }))
      await settle()
      expect(listeners()).toBe(1)
      expect(env.clock.pendingTimers()).toBe(engineTimers + 1)
      await produce(env, 't', 0, [value])
      await settle()
      expect(values(poll.value()!)).toEqual([value])
      expect(env.clock.pendingTimers()).toBe(engineTimers)
      expect(listeners()).toBe(1)
    }
    consumer.assign([{ topic: 't', partition: 1 }])
    expect(listeners()).toBe(0)
    const other = env.engine.log('t', 1)
    const otherListeners = (): number => (other as unknown as { hwListeners: Set<unknown> }).hwListeners.size
    const poll = track(consumer.poll({ timeoutMs: 5000 }))
    await settle()
    expect(otherListeners()).toBe(1)
    env.clock.advance(5000)
    await settle()
    expect(poll.value()).toEqual([])
    await consumer.close()
    expect(otherListeners()).toBe(0)
    expect(env.clock.pendingTimers()).toBe(engineTimers)
  })
  it('the run loop keeps one deadline timer across its polls: each poll still ends at its own deadline, and the timer goes when the loop ends', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest', fetchMaxWaitMs: 1000 })
    consumer.assign([{ topic: 't', partition: 0 }])
    const engineTimers = env.clock.pendingTimers()
    const seen: string[] = []
    let polls = 0
    const originalFetch = (consumer as unknown as { fetchChunks: (...a: unknown[]) => Promise<unknown> }).fetchChunks
    ;(consumer as unknown as { fetchChunks: (...a: unknown[]) => Promise<unknown> }).fetchChunks = function (...args: unknown[]) {
      polls++
      return originalFetch.apply(this, args)
    }
    const run = track(consumer.run({ eachMessage: ({ message }) => void seen.push(message.value!.toString()) }))
    await settle()
    expect(env.clock.pendingTimers()).toBe(engineTimers + 1)

    env.clock.advance(400)
    await produce(env, 't', 0, ['a'])
    await settle()
    expect(seen).toEqual(['a'])
    // The second poll (deadline at 1400) waits under the timer armed for the first (due at 1000).
    expect(env.clock.pendingTimers()).toBe(engineTimers + 1)
    const afterData = polls
    env.clock.advance(600)
    await settle()
    expect(polls).toBe(afterData) // the early timer re-armed; the poll did not end
    expect(env.clock.pendingTimers()).toBe(engineTimers + 1)
    env.clock.advance(399)
    await settle()
    expect(polls).toBe(afterData)
    env.clock.advance(1)
    await settle()
    expect(polls).toBe(afterData + 1) // timed out at 1400 and polled again

    await consumer.stop()
    expect(run.settled()).toBe(true)
    expect(env.clock.pendingTimers()).toBe(engineTimers)
  })
})

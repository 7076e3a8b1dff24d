import { describe, expect, it } from 'vitest'
import type { ConsumerRecord } from '../../src/consumer/types'
import { offsets, openEnv, produce, produceMany, settle, track, values } from './helpers'

const P0 = { topic: 't', partition: 0 }

describe('Consumer > async iterator', () => {
  it('yields records in order across polls and waits for new ones', async () => {
    const env = await openEnv()
    await produceMany(env, 't', 0, 2, 3)
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 4 })
    consumer.assign([P0])
    const seen: ConsumerRecord[] = []

    const loop = (async () => {
      for await (const record of consumer) {
        seen.push(record)
        if (seen.length === 7) break
      }
    })()
    await settle()
    expect(offsets(seen)).toEqual([0, 1, 2, 3, 4, 5])
    await produce(env, 't', 0, ['late'])
    await loop

    expect(values(seen.slice(6))).toEqual(['late'])
  })

  it('moves the position as each record is handed out, not when it is polled', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c', 'd'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const positions: number[] = []

    for await (const record of consumer) {
      positions.push(consumer.position(P0))
      if (record.offset === 3) break
    }

    expect(positions).toEqual([1, 2, 3, 4])
  })

  it('break gives back the records polled but not handed out', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c', 'd'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])

    for await (const record of consumer) if (record.offset === 1) break

    expect(consumer.position(P0)).toBe(2)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['c', 'd'])
  })

  it('pausing a partition inside the loop holds back its remaining records until resume', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a0', 'a1', 'a2'])
    await produce(env, 't', 1, ['b0'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0, { topic: 't', partition: 1 }])
    const seen: string[] = []

    for await (const record of consumer) {
      seen.push(record.value!.toString())
      if (record.offset === 0 && record.partition === 0) consumer.pause([P0])
      if (record.partition === 1) break
    }
    expect(seen).toEqual(['a0', 'b0'])
    consumer.resume([P0])

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a1', 'a2'])
  })

  it('ends when the consumer is closed while it waits', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const loop = track(
      (async () => {
        let n = 0
        for await (const _ of consumer) n++
        return n
      })(),
    )
    await settle()
    expect(loop.settled()).toBe(false)

    await consumer.close()
    await settle()

    expect(loop.value()).toBe(0)
  })

  it('keeps waiting across poll timeouts without returning', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest', fetchMaxWaitMs: 100 })
    consumer.assign([P0])
    const iterator = consumer[Symbol.asyncIterator]()
    const next = track(iterator.next())
    await settle()
    for (let i = 0; i < 5; i++) {
      env.clock.advance(100)
      await settle()
    }
    expect(next.settled()).toBe(false)

    await produce(env, 't', 0, ['x'])
    await settle()

    expect(next.value()).toMatchObject({ done: false, value: { offset: 0 } })
    await iterator.return!()
  })
  it('return() while next() waits ends that wait: the pending next() is done and the consumer can poll at once', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest', fetchMaxWaitMs: 60_000 })
    consumer.assign([P0])
    const iterator = consumer[Symbol.asyncIterator]()
    const next = track(iterator.next())
    await settle()
    expect(next.settled()).toBe(false)

    // As Readable.from(consumer).destroy() or a Promise.race with a timeout do.
    await iterator.return!()
    await settle()

    expect(next.value()).toEqual({ done: true, value: undefined })
    await produce(env, 't', 0, ['a', 'b'])
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a', 'b'])
  })

  it('records a waiting next() took when return() came are given back to the next poll', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const iterator = consumer[Symbol.asyncIterator]()
    const next = track(iterator.next())
    await settle()
    // The append wakes the poll, which takes the records; return() runs before next() resumes.
    await produce(env, 't', 0, ['a', 'b'])
    await iterator.return!()
    await settle()

    expect(next.value()).toEqual({ done: true, value: undefined })
    expect(consumer.position(P0)).toBe(0)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a', 'b'])
  })
})

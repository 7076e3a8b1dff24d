import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { ConsumerRecord } from '../../src/consumer/types'
import { batchBytes, offsets, openEnv, produce, produceMany, T0, values } from './helpers'

describe('Consumer > poll', () => {
  it('returns the records of a partition in offset order, from the position, with their fields', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'], { headers: [{ key: 'h', value: Buffer.from('v') }] })
    await produce(env, 't', 0, ['c'], { timestamp: 1_800_000_000_000 })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])

    const records = await consumer.poll({ timeoutMs: 0 })

    const fields = (r: ConsumerRecord) => ({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key!.toString(), value: r.value!.toString(), headers: r.headers })
    expect(records.map(fields)).toEqual([
      { topic: 't', partition: 0, offset: 0, timestamp: 1_700_000_000_000, key: 'k0', value: 'a', headers: [{ key: 'h', value: Buffer.from('v') }] },
      { topic: 't', partition: 0, offset: 1, timestamp: 1_700_000_000_001, key: 'k1', value: 'b', headers: [{ key: 'h', value: Buffer.from('v') }] },
      { topic: 't', partition: 0, offset: 2, timestamp: 1_800_000_000_000, key: 'k0', value: 'c', headers: [] },
    ])
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(3)
  })

  it('honours maxRecords and the next poll continues where the last one stopped', async () => {
    const env = await openEnv()
    await produceMany(env, 't', 0, 3, 4)
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 5 })
    consumer.assign([{ topic: 't', partition: 0 }])

    const first = await consumer.poll({ timeoutMs: 0 })
    const second = await consumer.poll({ maxRecords: 2, timeoutMs: 0 })
    const rest = await consumer.poll({ timeoutMs: 0 })

    expect(offsets(first)).toEqual([0, 1, 2, 3, 4])
    expect(offsets(second)).toEqual([5, 6])
    expect(offsets(rest)).toEqual([7, 8, 9, 10, 11])
    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([])
  })

  it('skips the records below the position inside the first batch it reads', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['r0', 'r1', 'r2', 'r3', 'r4'])
    const consumer = env.consumer()
    consumer.assign([{ topic: 't', partition: 0 }])
    consumer.seek({ topic: 't', partition: 0 }, 3)

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['r3', 'r4'])
  })

  it('reads compressed batches', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['x', 'y', 'z'], { compression: 'gzip' })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])
    consumer.seek({ topic: 't', partition: 0 }, 1)

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['y', 'z'])
  })

  it('keys and values of uncompressed batches are views into one read buffer, not copies', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['aaaa', 'bbbb', 'cccc'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])

    const records = await consumer.poll({ timeoutMs: 0 })

    const buffers = new Set(records.flatMap((r) => [r.key!.buffer, r.value!.buffer]))
    expect(buffers.size).toBe(1)
  })

  it('records make key, value and headers on first access, the same object each time, and still valid after later polls', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'], { headers: [{ key: 'h', value: Buffer.from('v') }] })
    await produce(env, 't', 0, ['c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 1 })
    consumer.assign([{ topic: 't', partition: 0 }])

    const [first] = await consumer.poll({ timeoutMs: 0 })
    await consumer.poll({ timeoutMs: 0 })
    await consumer.poll({ timeoutMs: 0 })

    const r = first!
    expect(r.value).toBe(r.value)
    expect(r.key).toBe(r.key)
    expect(r.headers).toBe(r.headers)
    expect([r.key!.toString(), r.value!.toString(), r.headers]).toEqual(['k0', 'a', [{ key: 'h', value: Buffer.from('v') }]])
    // Assignable, as plain objects were.
    r.value = Buffer.from('changed')
    r.headers = []
    expect([r.value.toString(), r.headers]).toEqual(['changed', []])
  })

  it('a record shows all seven fields to JSON.stringify and inspect; spread and Object.keys see the four own ones', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a'], { headers: [{ key: 'h', value: Buffer.from('v') }] })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])

    const [r] = await consumer.poll({ timeoutMs: 0 })

    const plain = { topic: 't', partition: 0, offset: 0, timestamp: T0, key: Buffer.from('k0'), value: Buffer.from('a'), headers: [{ key: 'h', value: Buffer.from('v') }] }
    expect(JSON.stringify(r)).toBe(JSON.stringify(plain))
    expect(inspect(r)).toBe(inspect(plain))
    expect(Object.keys(r!)).toEqual(['topic', 'partition', 'offset', 'timestamp'])
    expect({ ...r }).toEqual({ topic: 't', partition: 0, offset: 0, timestamp: T0 })
  })

  it('reads at most maxPartitionFetchBytes from a partition per poll, but always at least one batch', async () => {
    const env = await openEnv()
    await produceMany(env, 't', 0, 4, 10)
    const size = batchBytes(Array.from({ length: 10 }, (_, i) => `0-${i}`))
    const limited = env.consumer({ autoOffsetReset: 'earliest', maxPartitionFetchBytes: Math.floor(size * 2.5) })
    limited.assign([{ topic: 't', partition: 0 }])
    expect((await limited.poll({ timeoutMs: 0 })).length).toBe(20)

    const tiny = env.consumer({ autoOffsetReset: 'earliest', maxPartitionFetchBytes: 1 })
    tiny.assign([{ topic: 't', partition: 0 }])
    expect((await tiny.poll({ timeoutMs: 0 })).length).toBe(10)
    expect(offsets(await tiny.poll({ timeoutMs: 0 }))[0]).toBe(10)
  })

  it('reads at most fetchMaxBytes across partitions per poll; the rest waits for the next poll', async () => {
    const env = await openEnv({ t: 2 })
    await produceMany(env, 't', 0, 2, 10)
    await produceMany(env, 't', 1, 2, 10)
    const size = batchBytes(Array.from({ length: 10 }, (_, i) => `0-${i}`))
    const consumer = env.consumer({ autoOffsetReset: 'earliest', fetchMaxBytes: Math.floor(size * 1.5) })
    consumer.assign([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ])

    const first = await consumer.poll({ timeoutMs: 0 })
    const second = await consumer.poll({ timeoutMs: 0 })

    expect(first.map((r) => `${r.partition}@${r.offset}`)).toEqual(Array.from({ length: 10 }, (_, i) => `0@${i}`))
    expect(second[0]!.partition).toBe(1)
    expect(offsets(second.filter((r) => r.partition === 1)).slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i))
  })

  it('visits partitions round-robin, so a busy partition cannot starve the others', async () => {
    const env = await openEnv({ t: 3 })
    await produceMany(env, 't', 0, 10, 50)
    await produce(env, 't', 1, ['one'])
    await produce(env, 't', 2, ['two'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 20 })
    consumer.assign([0, 1, 2].map((partition) => ({ topic: 't', partition })))

    const seen = new Set<number>()
    for (let i = 0; i < 3; i++) for (const r of await consumer.poll({ timeoutMs: 0 })) seen.add(r.partition)

    expect([...seen].sort()).toEqual([0, 1, 2])
  })

  it('returns per-partition offset order when several partitions contribute to one poll', async () => {
    const env = await openEnv({ t: 2 })
    await produceMany(env, 't', 0, 3, 3)
    await produceMany(env, 't', 1, 3, 3)
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ])

    const records = await consumer.poll({ timeoutMs: 0 })

    for (const p of [0, 1]) expect(offsets(records.filter((r) => r.partition === p))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
  })
})

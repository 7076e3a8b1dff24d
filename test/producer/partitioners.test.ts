/**
 * Partition choice through the Producer: keyed records land where Kafka and kafkajs put them (Kafka's
 * reference vectors, and kafkajs's DefaultPartitioner on many seeded random keys and several partition
 * counts); null keys stick to one partition until its batch is full; round-robin cycles; an explicit
 * partition wins; a custom partitioner's answer is checked.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { createPartitioner } from '../../src/producer/partitioners'
import { batchCount, FakeHost, seededRandom, values } from './helpers'
import { expectCode } from '../engine/helpers'

type KafkajsPartitioner = (input: { topic: string; partitionMetadata: { partitionId: number; leader: number }[]; message: { key: Buffer } }) => number
const require = createRequire(import.meta.url)
const createKafkajsDefaultPartitioner = require('kafkajs/src/producer/partitioners/default') as () => KafkajsPartitioner

/** Kafka's UtilsTest.testMurmur2 keys (and the empty key), with partitions for 3, 6 and 50 (kafka-format.md §4.3). */
const KAFKA_VECTORS: [string, number, number, number][] = [
  ['21', 0, 0, 40],
  ['foobar', 0, 0, 16],
  ['a-little-bit-long-string', 2, 2, 12],
  ['a-little-bit-longer-string', 2, 5, 19],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 2, 5, 27],
  ['abc', 0, 3, 7],
  ['', 0, 3, 31],
]

describe('Producer > partitioner > keyed records', () => {
  it("places Kafka's reference keys as Kafka does, through the producer's partitioner and through send", async () => {
    const partitioner = createPartitioner('default')
    for (const [key, p3, p6, p50] of KAFKA_VECTORS) {
      expect([3, 6, 50].map((n) => partitioner.fixedPartition('t', key, 'v', n)), key).toEqual([p3, p6, p50])
      expect([3, 6, 50].map((n) => partitioner.fixedPartition('t', Buffer.from(key), null, n)), key).toEqual([p3, p6, p50])
    }
    const host = await FakeHost.create({ t3: { partitions: 3 }, t6: { partitions: 6 }, t50: { partitions: 50 } })
    const producer = host.producer({ lingerMs: 0 })
    for (const [topic, column] of [['t3', 1], ['t6', 2], ['t50', 3]] as const) {
      const results = await producer.send(topic, KAFKA_VECTORS.map(([key]) => ({ key, value: key })))
      expect(results.map((r) => r.partition)).toEqual(KAFKA_VECTORS.map((v) => v[column]))
    }
    await producer.close()
  })

  it("equals kafkajs's DefaultPartitioner for 10,000 random keys per partition count, through send", async () => {
    const seed = Number(process.env.KAFKALITE_SEED ?? Date.now() % 1_000_000)
    console.log(`partitioner comparison seed ${seed} (KAFKALITE_SEED=${seed} to replay)`)
    const random = seededRandom(seed)
    const keys = Array.from({ length: 10_000 }, (_, i) => randomKey(random, i))
    const counts = [1, 2, 3, 7, 16, 50, 101, 1000]
    const host = await FakeHost.create(Object.fromEntries(counts.map((n) => [`t${n}`, { partitions: n }])))
    const producer = host.producer({ lingerMs: 0, acks: 0, bufferMemory: 64 * 1024 * 1024 })
    const kafkajs = createKafkajsDefaultPartitioner()
    for (const n of counts) {
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }))
      const expected = keys.map((key) => kafkajs({ topic: `t${n}`, partitionMetadata, message: { key: Buffer.from(key) } }))
      const results = await producer.send(`t${n}`, keys.map((key) => ({ key, value: null })))
      const mismatches = results.map((r, i) => [i, r.partition, expected[i]!]).filter(([, ours, theirs]) => ours !== theirs)
      expect(mismatches.slice(0, 5), `seed ${seed}, ${n} partitions`).toEqual([])
    }
    await producer.close()
  })
})

/** Random keys: raw bytes of any value (the encoder sees exactly these) and strings with non-ASCII text. */
function randomKey(random: () => number, i: number): Buffer | string {
  const length = Math.floor(random() * 40)
  if (i % 3 === 0) return Array.from({ length }, () => String.fromCodePoint(random() < 0.8 ? 32 + Math.floor(random() * 95) : 0xa0 + Math.floor(random() * 0x3000))).join('')
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)))
}

describe('Producer > partitioner > null keys (sticky)', () => {
  it('sticks to one partition until its batch is full, then switches to another one', async () => {
    const host = await FakeHost.create({ t: { partitions: 4, config: { durability: 'none' } } })
    const producer = host.producer({ acks: 1, lingerMs: 60_000, batchSize: 1000, idempotent: false }, seededRandom(7))
    const record = { value: 'x'.repeat(90) } // 98 bytes in a batch: 9 fit in a 1000-byte batch with its 61-byte header
    const sends = Array.from({ length: 35 }, () => producer.send('t', record))
    await producer.flush()
    const partitions = (await Promise.all(sends)).map((r) => r.partition)
    // Runs of one partition, each run one batch, and consecutive runs on different partitions.
    const runs: { partition: number; length: number }[] = []
    for (const p of partitions) {
      if (runs.at(-1)?.partition === p) runs.at(-1)!.length++
      else runs.push({ partition: p, length: 1 })
    }
    expect(runs.slice(0, -1).map((r) => r.length)).toEqual([9, 9, 9])
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.partition).not.toBe(runs[i - 1]!.partition)
    let batches = 0
    for (let p = 0; p < 4; p++) batches += batchCount(host.realLog('t', p))
    expect(batches).toBe(runs.length)
    await producer.close()
  })

  it('with batchSize 0 switches after every record', async () => {
    const host = await FakeHost.create({ t: { partitions: 3 } })
    const producer = host.producer({ acks: 0, batchSize: 0 }, seededRandom(1))
    const results = await producer.send('t', Array.from({ length: 20 }, () => ({ value: 'v' })))
    for (let i = 1; i < results.length; i++) expect(results[i]!.partition).not.toBe(results[i - 1]!.partition)
    await producer.close()
  })
})

describe('Producer > partitioner > roundRobin, custom and explicit', () => {
  it('roundRobin cycles through the partitions, ignoring keys', async () => {
    const host = await FakeHost.create({ t: { partitions: 3 }, u: { partitions: 2 } })
    const producer = host.producer({ acks: 0, partitioner: 'roundRobin' })
    const results = await producer.send('t', Array.from({ length: 7 }, () => ({ key: 'same', value: 'v' })))
    expect(results.map((r) => r.partition)).toEqual([0, 1, 2, 0, 1, 2, 0])
    expect((await producer.send('u', [{ value: 'a' }, { value: 'b' }, { value: 'c' }])).map((r) => r.partition)).toEqual([0, 1, 0])
    await producer.close()
  })

  it('an explicit partition wins over every partitioner', async () => {
    const host = await FakeHost.create({ t: { partitions: 5 } })
    for (const partitioner of ['default', 'roundRobin', () => 0] as const) {
      const producer = host.producer({ acks: 0, partitioner })
      const results = await producer.send('t', [{ key: 'foobar', value: 'v', partition: 4 }, { value: 'v', partition: 3 }])
      expect(results.map((r) => r.partition)).toEqual([4, 3])
      await producer.close()
    }
  })

  it('a custom partitioner gets topic, key, value and the partition count, and its answer is used', async () => {
    const host = await FakeHost.create({ t: { partitions: 4 } })
    const seen: unknown[] = []
    const producer = host.producer({
      lingerMs: 0,
      partitioner: ({ topic, key, value, numPartitions }) => {
        seen.push({ topic, key: key && Buffer.from(key).toString(), value: value && Buffer.from(value).toString(), numPartitions })
        return value!.length % numPartitions
      },
    })
    const results = await producer.send('t', [{ key: 'k', value: 'abc' }, { value: 'abcdef' }])
    expect(results.map((r) => r.partition)).toEqual([3, 2])
    expect(seen).toEqual([
      { topic: 't', key: 'k', value: 'abc', numPartitions: 4 },
      { topic: 't', key: null, value: 'abcdef', numPartitions: 4 },
    ])
    expect(values(host.realLog('t', 3))).toEqual(['abc'])
    await producer.close()
  })

  it.each([[4], [-1], [1.5], ['1'], [Number.NaN], [undefined]])('a custom partitioner answer of %s is ERR_INVALID_ARGUMENT and nothing is written', async (answer) => {
    const host = await FakeHost.create({ t: { partitions: 4 } })
    const producer = host.producer({ lingerMs: 0, partitioner: () => answer as number })
    const e = await expectCode(() => producer.send('t', [{ value: 'fine', partition: 0 }, { value: 'bad' }]), 'ERR_INVALID_ARGUMENT')
    expect(e.message).toMatch(/custom partitioner returned .* \[0, 4\)/)
    await producer.flush()
    for (let p = 0; p < 4; p++) expect(host.realLog('t', p).logEndOffset).toBe(0)
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })
})

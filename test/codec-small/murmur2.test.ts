/**
 * murmur2 and the two partition rules. Golden vectors come from Kafka's own UtilsTest (kafka-format.md §4.3)
 * and from Java 17 (§3's group table). The randomized suite checks one invariant: for every key and every
 * partition count, our partitionForKey agrees with kafkajs's default partitioner, an independent
 * implementation built on a 64-bit Long emulation. It prints its seed; rerun with MURMUR2_SEED=<seed>.
 */
import { randomInt } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  groupPartition,
  javaAbs,
  javaStringHashCode,
  murmur2,
  partitionForKey,
  toPositive,
} from '../../src/codec/murmur2'
import { isKafkaliteError } from '../../src/errors/index'
import { mulberry32 } from '../helpers/random'

const require = createRequire(import.meta.url)
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number
const createKafkajsPartitioner = require('kafkajs/src/producer/partitioners/default/index.js') as () => (args: {
  topic: string
  partitionMetadata: { partitionId: number; leader: number }[]
  message: { key: Buffer }
}) => number

const utf8 = (s: string) => Buffer.from(s, 'utf8')

// key, murmur2 (signed), toPositive, %3, %6, %50
const KEY_VECTORS: [string, number, number, number, number, number][] = [
  ['21', -973932308, 1173551340, 0, 0, 40],
  ['foobar', -790332482, 1357151166, 0, 0, 16],
  ['a-little-bit-long-string', -985981536, 1161502112, 2, 2, 12],
  ['a-little-bit-longer-string', -1486304829, 661178819, 2, 5, 19],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 2088585677, 2, 5, 27],
  ['abc', 479470107, 479470107, 0, 3, 7],
  ['', 275646681, 275646681, 0, 3, 31],
]

// groupId, String.hashCode, partition of 50
const GROUP_VECTORS: [string, number, number][] = [
  ['my-group', -1906497762, 12],
  ['test-group', 627841412, 12],
  ['console-consumer-12345', 158455506, 6],
  ['', 0, 0],
  ['groupé', -1237460406, 6],
  ['g😀', 1871882, 32],
  ['polygenelubricants', -2147483648, 0],
]

describe('murmur2', () => {
  it.each(KEY_VECTORS)('murmur2(%j) matches Kafka UtilsTest', (key, signed, positive, p3, p6, p50) => {
    expect(murmur2(utf8(key))).toBe(signed)
    expect(toPositive(murmur2(utf8(key)))).toBe(positive)
    expect(partitionForKey(utf8(key), 3)).toBe(p3)
    expect(partitionForKey(utf8(key), 6)).toBe(p6)
    expect(partitionForKey(utf8(key), 50)).toBe(p50)
  })

  it('toPositive masks the sign bit instead of taking the absolute value', () => {
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(5)).toBe(5)
  })

  it('hashes bytes, not characters: a key that is not valid UTF-8 still hashes', () => {
    const key = Uint8Array.of(0xff, 0xfe, 0x00, 0x80, 0x7f)
    expect(murmur2(key)).toBe(kafkajsMurmur2(Buffer.from(key)))
  })

  it('partitionForKey rejects a partition count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      try {
        partitionForKey(utf8('k'), n)
        expect.unreachable()
      } catch (e) {
        expect(isKafkaliteError(e, 'ERR_INVALID_ARGUMENT')).toBe(true)
      }
    }
  })

  it('agrees with kafkajs on random keys for partition counts 1, 3, 6, 50 and 1000', () => {
    const seed = process.env.MURMUR2_SEED !== undefined ? Number(process.env.MURMUR2_SEED) : randomInt(0, 2 ** 32)
    console.log(`murmur2 vs kafkajs: seed ${seed} (rerun with MURMUR2_SEED=${seed})`)
    const random = mulberry32(seed)
    const counts = [1, 3, 6, 50, 1000]
    const partitioner = createKafkajsPartitioner()
    const metadata = new Map(
      counts.map((n) => [n, Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }))]),
    )
    const KEYS = 10_000
    for (let i = 0; i < KEYS; i++) {
      const length = Math.floor(random() * 65)
      const key = Buffer.alloc(length)
      for (let j = 0; j < length; j++) key[j] = Math.floor(random() * 256)
      const hash = murmur2(key)
      if (hash !== kafkajsMurmur2(key)) {
        throw new Error(`seed ${seed}: key ${key.toString('hex')} hashes to ${hash}, kafkajs says ${kafkajsMurmur2(key)}`)
      }
      for (const n of counts) {
        const theirs = partitioner({ topic: 't', partitionMetadata: metadata.get(n)!, message: { key } })
        const ours = partitionForKey(key, n)
        if (ours !== theirs) throw new Error(`seed ${seed}: key ${key.toString('hex')} % ${n}: ours ${ours}, kafkajs ${theirs}`)
      }
    }
  })
})

describe('group partition', () => {
  it.each(GROUP_VECTORS)('groupPartition(%j) matches Java 17', (groupId, hash, partition) => {
    expect(javaStringHashCode(groupId)).toBe(hash)
    expect(groupPartition(groupId, 50)).toBe(partition)
  })

  it('uses Utils.abs, which maps Integer.MIN_VALUE to 0, not the sign mask', () => {
    expect(javaAbs(-2147483648)).toBe(0)
    expect(javaAbs(-5)).toBe(5)
    // With the key rule's mask, "polygenelubricants" would also give 0; a negative hash shows the difference.
    expect(groupPartition('my-group', 50)).toBe(Math.abs(-1906497762) % 50)
    expect(groupPartition('my-group', 50)).not.toBe(toPositive(-1906497762) % 50)
  })
})

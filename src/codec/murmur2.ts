/**
 * The two hash-to-partition rules Kafka uses, which must not be mixed up (kafka-format.md §3, §4, pitfall 12):
 *
 * - A record key is placed by `toPositive(murmur2(keyBytes)) % numPartitions`, where `toPositive` masks the
 *   sign bit (`n & 0x7fffffff`) and murmur2 runs over the key's bytes (Kafka `BuiltInPartitioner.partitionForKey`,
 *   `Utils.murmur2`, `Utils.toPositive`).
 * - A consumer group (and a transactional id) is placed in `__consumer_offsets` by
 *   `Utils.abs(groupId.hashCode()) % numPartitions`, where `hashCode` is Java's `String.hashCode` over UTF-16
 *   code units and `Utils.abs` maps `Integer.MIN_VALUE` to 0 instead of masking (Kafka
 *   `GroupCoordinatorService.partitionFor`).
 *
 * All arithmetic is wrapping int32, as in Java: every multiplication goes through `Math.imul`, and every
 * unsigned shift (`>>>`) is folded back to int32 with `| 0`.
 */
import { InvalidArgumentError } from '../errors/index'

const MURMUR2_SEED = 0x9747b28c
const MURMUR2_M = 0x5bd1e995
const MURMUR2_R = 24

/** MurmurHash2 (32-bit) exactly as Kafka's `Utils.murmur2`: returns the signed int32 hash of `key`. */
export function murmur2(key: Uint8Array): number {
  const length = key.length
  let h = (MURMUR2_SEED ^ length) | 0
  const wholeWords = length >>> 2

  for (let i = 0; i < wholeWords; i++) {
    const i4 = i * 4
    // Each 4-byte group is read as a little-endian word, whatever the platform's byte order.
    let k = key[i4]! | (key[i4 + 1]! << 8) | (key[i4 + 2]! << 16) | (key[i4 + 3]! << 24)
    k = Math.imul(k, MURMUR2_M)
    k ^= k >>> MURMUR2_R
    k = Math.imul(k, MURMUR2_M)
    h = Math.imul(h, MURMUR2_M)
    h ^= k
  }

  // The 1-3 trailing bytes are mixed from the highest to the lowest, like the fall-through switch in Java.
  const tail = length & ~3
  const remaining = length & 3
  if (remaining === 3) h ^= key[tail + 2]! << 16
  if (remaining >= 2) h ^= key[tail + 1]! << 8
  if (remaining >= 1) {
    h ^= key[tail]!
    h = Math.imul(h, MURMUR2_M)
  }

  h ^= h >>> 13
  h = Math.imul(h, MURMUR2_M)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's `Utils.toPositive`: clears the sign bit. Not `Math.abs`: -1 maps to 2147483647. */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition Kafka's default partitioner chooses for a non-null key. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  checkPartitionCount(numPartitions)
  return toPositive(murmur2(key)) % numPartitions
}

/** Java's `String.hashCode`: `h = 31 * h + c` over UTF-16 code units, wrapping at int32. */
export function javaStringHashCode(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** Kafka's `Utils.abs`: `Math.abs`, except that `Integer.MIN_VALUE` (whose absolute value overflows) maps to 0. */
export function javaAbs(n: number): number {
  return n === -0x80000000 ? 0 : Math.abs(n)
}

/**
 * The `__consumer_offsets` partition that holds `groupId`'s offsets and metadata. Kafka's default
 * `offsets.topic.num.partitions` is 50. For example `"polygenelubricants"` hashes to `Integer.MIN_VALUE`
 * and lands on partition 0.
 */
export function groupPartition(groupId: string, numPartitions: number): number {
  checkPartitionCount(numPartitions)
  return javaAbs(javaStringHashCode(groupId)) % numPartitions
}

function checkPartitionCount(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 0x7fffffff) {
    throw new InvalidArgumentError(`numPartitions must be an integer in [1, 2147483647], got ${numPartitions}`, {
      numPartitions,
    })
  }
}

/**
 * Choosing a partition for a record (Kafka's `KafkaProducer.partition` and `BuiltInPartitioner`).
 *
 * - An explicit `partition` on the record always wins (the producer range-checks it and does not ask
 *   the partitioner).
 * - "default", keyed record: `toPositive(murmur2(key)) % numPartitions`, exactly as Kafka and kafkajs
 *   place keys (codec/murmur2.ts), so a key lands where a Kafka client would put it.
 * - "default", null key: sticky partitioning (KIP-480/KIP-794). Records of a topic go to one partition
 *   until its batch is full (it reached `batchSize`, or the next record does not fit), then to another
 *   partition chosen at random (never the same one when there is a choice). Filling one batch at a time
 *   gives fuller batches and fewer appends than spreading every record. (Kafka also weighs partitions by
 *   queue length — adaptive partitioning — which needs brokers of different speeds; here every
 *   partition is the same disk.)
 * - "roundRobin": Kafka's RoundRobinPartitioner: keys are ignored and each topic cycles 0, 1, 2, ...
 * - a function `({ topic, key, value, numPartitions }) => partition`: its result must be an integer in
 *   [0, numPartitions), else ERR_INVALID_ARGUMENT.
 *
 * The fixed choices (explicit, keyed, custom) are pure and made while a send is validated; the stateful
 * ones (sticky, round-robin) are made when the record joins a batch, so that stickiness follows the
 * batches really being filled. Partitioners are per producer, like Kafka's.
 */
import type { Partitioner, PartitionerFunction } from '../config/producer-config'
import { partitionForKey } from '../codec/murmur2'
import { describeValue, InvalidArgumentError } from '../errors/index'
import { assert } from '../util/assert'
import type { BuilderBytes } from '../codec/batch-builder'
import { toBuffer } from './records'

export interface ProducerPartitioner {
  /**
   * The partition of a record without an explicit one, when it does not depend on partitioner state,
   * else undefined (choose with `next`).
   */
  fixedPartition(topic: string, key: BuilderBytes, value: BuilderBytes, numPartitions: number): number | undefined
  /** The partition of a record whose choice is stateful (sticky or round-robin). */
  next(topic: string, numPartitions: number): number
  /** Whether `next` sticks to a partition until its batch is full (then `onBatchFull` must be called). */
  readonly sticky: boolean
  /** The batch `next` chose for `topic` is full: the next call chooses another partition. */
  onBatchFull(topic: string, partition: number): void
}

/** `random()` returns a float in [0, 1), like Math.random (injected by tests). */
export function createPartitioner(partitioner: Partitioner, random: () => number = Math.random): ProducerPartitioner {
  if (typeof partitioner === 'function') return new CustomPartitioner(partitioner)
  if (partitioner === 'roundRobin') return new RoundRobinPartitioner()
  return new DefaultPartitioner(random)
}

class DefaultPartitioner implements ProducerPartitioner {
  readonly sticky = true
  private readonly cache: StickyPartitionCache

  constructor(random: () => number) {
    this.cache = new StickyPartitionCache(random)
  }

  fixedPartition(_topic: string, key: BuilderBytes, _value: BuilderBytes, numPartitions: number): number | undefined {
    if (key === null) return undefined
    // Any hash modulo 1 is 0: a single-partition topic needs no murmur2.
    if (numPartitions === 1) return 0
    return partitionForKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key, numPartitions)
  }

  next(topic: string, numPartitions: number): number {
    return this.cache.partition(topic, numPartitions)
  }

  onBatchFull(topic: string, partition: number): void {
    this.cache.switchFrom(topic, partition)
  }
}

/** The sticky partition of each topic (Kafka's StickyPartitionCache). */
export class StickyPartitionCache {
  private readonly current = new Map<string, number>()
  /** The partition each topic last switched away from, so that the next choice differs from it. */
  private readonly previous = new Map<string, number>()

  constructor(private readonly random: () => number) {}

  partition(topic: string, numPartitions: number): number {
    const current = this.current.get(topic)
    if (current !== undefined && current < numPartitions) return current
    const partition = this.pick(numPartitions, this.previous.get(topic))
    this.current.set(topic, partition)
    return partition
  }

  /** Leaves `partition` if it is the topic's sticky one. */
  switchFrom(topic: string, partition: number): void {
    if (this.current.get(topic) !== partition) return
    this.current.delete(topic)
    this.previous.set(topic, partition)
  }

  private pick(numPartitions: number, avoid: number | undefined): number {
    if (numPartitions === 1) return 0
    if (avoid === undefined || avoid >= numPartitions) return Math.floor(this.random() * numPartitions)
    const p = Math.floor(this.random() * (numPartitions - 1))
    return p >= avoid ? p + 1 : p
  }
}

class RoundRobinPartitioner implements ProducerPartitioner {
  readonly sticky = false
  private readonly counters = new Map<string, number>()

  fixedPartition(): number | undefined {
    return undefined
  }

  next(topic: string, numPartitions: number): number {
    const n = this.counters.get(topic) ?? 0
    this.counters.set(topic, (n + 1) % 0x7fffffff)
    return n % numPartitions
  }

  onBatchFull(): void {}
}

class CustomPartitioner implements ProducerPartitioner {
  readonly sticky = false

  constructor(private readonly fn: PartitionerFunction) {}

  fixedPartition(topic: string, key: BuilderBytes, value: BuilderBytes, numPartitions: number): number {
    // Copies: the function may keep or change what it is given, and a string key reaches it as bytes.
    const p = this.fn({ topic, key: toBuffer(key), value: toBuffer(value), numPartitions })
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= numPartitions) {
      throw new InvalidArgumentError(
        `The custom partitioner returned ${describeValue(p)} for topic ${topic}, which has ${numPartitions} partition(s): it must return an integer in [0, ${numPartitions})`,
        { topic, numPartitions },
      )
    }
    return p
  }

  next(): number {
    return unreachableChoice()
  }

  onBatchFull(): void {}
}

function unreachableChoice(): never {
  assert(false, 'a custom partitioner always makes a fixed choice')
}

/**
 * The root object: one open data directory. What SQLite's connection is to a database file, a Kafkalite
 * instance is to a Kafka log directory: `open` it, create and use topics, `close` it.
 *
 * Lifecycle: `open` takes the directory's lock (ERR_LOCKED while another live instance, in this process
 * or another, holds it) and recovers whatever a crash left; `close` is idempotent, flushes everything,
 * leaves the directory marked cleanly shut (so the next open reads no log data), and releases the lock.
 * After `close`, every method throws or rejects with ERR_CLOSED. Background timers never keep the host
 * process alive.
 */
import {
  Engine,
  type CreateTopicOptions,
  type EngineOptions,
  type TopicConfigChanges,
  type TopicDescription,
} from '../engine/engine'
import type { OpenReport } from '../engine/open-report'
import type { CleanerRunReport } from '../cleaner/cleaner-manager'
import type { ConsumerConfigInput } from '../config/consumer-config'
import { Consumer } from '../consumer/consumer'
import { InvalidConfigError } from '../errors/index'
import { ConsumerGroup, type ConsumerGroupOptions } from '../group/consumer-group'
import { GroupCoordinator, type GroupListing } from '../group/coordinator'
import { Producer, type ProducerOptions } from '../producer/producer'
import { Topic } from './topic'

/** `{ dir }` or `{ inMemory: true }`, optional `fs` and `clock` ports, and engine config keys. */
export type KafkaliteOptions = EngineOptions

export class Kafkalite {
  readonly #engine: Engine
  readonly #groups: GroupCoordinator

  private constructor(engine: Engine, groups: GroupCoordinator) {
    this.#engine = engine
    this.#groups = groups
  }

  /**
   * Opens (or creates) a data directory, or an in-memory one with `{ inMemory: true }`. Consumer groups
   * stored in `__consumer_offsets` are loaded (replayed) as part of the open.
   */
  static async open(options: KafkaliteOptions): Promise<Kafkalite> {
    const engine = await Engine.open(options)
    let groups: GroupCoordinator
    try {
      groups = GroupCoordinator.open(engine)
    } catch (e) {
      await engine.close().catch(() => undefined)
      throw e
    }
    return new Kafkalite(engine, groups)
  }

  /** The data directory (a fixed path inside the in-memory file system in in-memory mode). */
  get dir(): string {
    return this.#engine.dir
  }

  /** What the open found and repaired: clean shutdown or not, and damage per partition. */
  get openReport(): OpenReport {
    return this.#engine.openReport
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#engine.state === 'closing' || this.#engine.state === 'closed'
  }

  /**
   * Creates a topic with `partitions` (default: the engine's numPartitions) and topic config overrides
   * (Kafka's names, camelCased: `retentionMs`, `segmentBytes`, `cleanupPolicy`, ...). Returns the topic.
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<Topic> {
    await this.#engine.createTopic(name, options)
    return new Topic(this.#engine, name)
  }

  /** Deletes a topic and all its data. */
  deleteTopic(name: string): Promise<void> {
    return this.#engine.deleteTopic(name)
  }

  /** Raises a topic's partition count; a decrease is ERR_INVALID_PARTITIONS (it would break keyed ordering). */
  createPartitions(name: string, newCount: number): Promise<void> {
    return this.#engine.createPartitions(name, newCount)
  }

  /** Sets (a value) or removes (`null`) topic config overrides at run time; validated, persisted, applied. */
  alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<void> {
    return this.#engine.alterTopicConfig(name, changes)
  }

  /** Topic names, sorted; Kafka's internal topics only with `listInternal: true`. */
  listTopics(options: { listInternal?: boolean } = {}): string[] {
    return this.#engine.listTopics(options)
  }

  describeTopic(name: string): TopicDescription {
    return this.#engine.describeTopic(name)
  }

  /**
   * Kafka's DeleteRecords for one partition: records below `beforeOffset` (-1: the high watermark)
   * become unreadable at once (ERR_OFFSET_OUT_OF_RANGE past the high watermark). Resolves with the new
   * log start offset, Kafka's low watermark.
   */
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<{ lowWatermark: number }> {
    return this.#engine.deleteRecords(topic, partition, beforeOffset)
  }

  /**
   * Runs retention and compaction now, one pass over every partition (they also run in the background
   * every min(logRetentionCheckIntervalMs, logCleanerBackoffMs)). For tests and maintenance scripts.
   */
  runCleaners(): Promise<CleanerRunReport> {
    return this.#engine.runCleaners()
  }

  /** The topic `name`; ERR_UNKNOWN_TOPIC_OR_PARTITION if it does not exist. */
  topic(name: string): Topic {
    this.#engine.ensureOpen()
    this.#engine.partitionCount(name)
    return new Topic(this.#engine, name)
  }

  /**
   * A standalone consumer: partitions are assigned by hand (`assign`), positions are kept in memory and
   * nothing is committed. Consumer config keys are Kafka's, camelCased (`autoOffsetReset`,
   * `maxPollRecords`, `fetchMaxBytes`, ...); `groupId` is refused here, because a group's members come
   * from its consumer group. The consumer closes with this instance.
   */
  consumer(options: ConsumerConfigInput = {}): Consumer {
    this.#engine.ensureOpen()
    const groupId = (options as { groupId?: unknown } | null)?.groupId
    if (groupId !== undefined && groupId !== null) {
      throw new InvalidConfigError('groupId', groupId, 'must be null for a standalone consumer (group members come from a consumer group)', { config: 'consumer' })
    }
    return new Consumer(this.#engine, options)
  }

  /**
   * The consumer group `groupId` (src/group): create members with `group.consumer({ topics | pattern })`,
   * and `describe`, `resetOffsets` it. `options` are consumer config defaults for its members. Members
   * close with this instance.
   */
  consumerGroup(groupId: string, options: ConsumerGroupOptions = {}): ConsumerGroup {
    this.#engine.ensureOpen()
    return new ConsumerGroup(this.#groups, this.#engine, groupId, options)
  }

  /** Every consumer group: those with members and those with only committed offsets. */
  listGroups(): GroupListing[] {
    this.#engine.ensureOpen()
    return this.#groups.listGroups()
  }

  /** Deletes a group with no members and its committed offsets; ERR_NON_EMPTY_GROUP while it has members. */
  deleteGroup(groupId: string): Promise<void> {
    return this.#groups.deleteGroup(groupId)
  }

  /**
   * A producer (Kafka's KafkaProducer, in process): `send`, `sendBatch`, `flush`, `close`. Options are
   * Kafka's producer configs, camelCased (`acks`, `lingerMs`, `batchSize`, `compressionType`,
   * `idempotent`, ...); ERR_INVALID_CONFIG names a bad one. The producer closes (flushing first) with
   * this instance.
   */
  producer(options: ProducerOptions = {}): Producer {
    this.#engine.ensureOpen()
    return new Producer(this.#engine, options)
  }

  /** Closes the data directory (idempotent: every call returns the same promise). */
  close(): Promise<void> {
    return this.#engine.close()
  }
}

/**
 * What a Producer needs from the data directory it writes to. The engine (src/engine/engine.ts)
 * satisfies it as is; tests build small hosts over `PartitionLog.open` and a MemoryFileSystem, or wrap a
 * log to inject failures between a write and its acknowledgement.
 *
 * Contract expected of a host:
 * - `ensureOpen` throws ERR_CLOSED once the directory is closing or closed (no new sends), while `log`,
 *   `partitionCount` and `topicConfig` keep working during close, so that close hooks can flush.
 * - `partitionCount`, `topicConfig` and `log` throw ERR_UNKNOWN_TOPIC_OR_PARTITION for a topic or
 *   partition that does not exist, and are synchronous.
 * - `allocateProducerId` returns an id never handed out before in this data directory (the engine
 *   persists a block reservation before returning, so a restart cannot reuse one), with epoch 0.
 * - `onClose` hooks run at the start of the directory's close, before the logs close.
 * - `ensureTopic`, if present, validates the name (ERR_INVALID_TOPIC) before creating anything.
 */
import type { TopicConfig } from '../config/index'
import type { Clock } from '../io/clock'
import type { PartitionLog } from '../storage/partition-log'

/** The part of a partition log a producer uses: a synchronous append and a group-commit fsync wait. */
export type ProducerLog = Pick<PartitionLog, 'append' | 'flushUpTo'>

/** The topic settings that shape a producer's batches. */
export type ProducerTopicConfig = Pick<TopicConfig, 'maxMessageBytes' | 'compressionType' | 'messageTimestampType'>

export interface ProducerIdAndEpoch {
  producerId: number
  producerEpoch: number
}

export interface ProducerHost {
  readonly clock: Clock
  ensureOpen(): void
  partitionCount(topic: string): number
  topicConfig(topic: string): ProducerTopicConfig
  log(topic: string, partition: number): ProducerLog
  allocateProducerId(): Promise<ProducerIdAndEpoch>
  onClose(hook: () => Promise<void> | void): () => void
  /**
   * Optional: resolves once `topic` exists, creating it when the host auto-creates topics (Kafka's
   * `auto.create.topics.enable`), else rejecting with ERR_UNKNOWN_TOPIC_OR_PARTITION. Without it, an
   * unknown topic is an error at once.
   */
  ensureTopic?(topic: string): Promise<void>
}

/**
 * Per-topic configuration: Kafka's topic configs (`TopicConfig`, `LogConfig`) with camelCase names, Kafka's
 * defaults and Kafka's ranges, plus two kafkalite keys (`maxDecompressedBatchBytes`, `durability`). Durations
 * are milliseconds, sizes bytes. Kafka's Long.MAX_VALUE ("never") becomes Number.MAX_SAFE_INTEGER.
 */
import { InvalidConfigError } from '../errors/index'
import { bool, custom, defineConfig, describeConfig, double, int, INVALID, long, oneOf, resolveConfig } from './define'

const DAY_MS = 24 * 60 * 60 * 1000
const MiB = 1024 * 1024

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete'
export type TopicCompressionType = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export type TimestampType = 'CreateTime' | 'LogAppendTime'
export type Durability = 'none' | 'fsync'

export interface TopicConfig {
  readonly segmentBytes: number
  readonly segmentMs: number
  readonly segmentJitterMs: number
  readonly segmentIndexBytes: number
  readonly indexIntervalBytes: number
  readonly retentionMs: number
  readonly retentionBytes: number
  readonly cleanupPolicy: CleanupPolicy
  readonly deleteRetentionMs: number
  readonly minCompactionLagMs: number
  readonly maxCompactionLagMs: number
  readonly minCleanableDirtyRatio: number
  readonly maxMessageBytes: number
  readonly messageTimestampType: TimestampType
  readonly compressionType: TopicCompressionType
  readonly flushMessages: number
  readonly flushMs: number
  readonly fileDeleteDelayMs: number
  readonly preallocate: boolean
  readonly maxDecompressedBatchBytes: number
  readonly durability: Durability
}

type CleanupPolicyItem = 'compact' | 'delete'

/** What callers may pass: a TopicConfig subset, where `cleanupPolicy` may also be a list. */
export type TopicConfigInput = {
  readonly [K in keyof TopicConfig]?: K extends 'cleanupPolicy'
    ? CleanupPolicy | 'delete,compact' | readonly CleanupPolicyItem[]
    : TopicConfig[K]
}

/**
 * Kafka's `cleanup.policy` is a list of "compact" and "delete", given as a comma-separated string or a list.
 * It is normalised to a sorted, de-duplicated string so that callers can compare with ===.
 */
const cleanupPolicy = custom<CleanupPolicy>(
  'list',
  '"delete", "compact", "compact,delete", or a non-empty array of "compact" and "delete"',
  (v) => {
    const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : Array.isArray(v) ? (v as unknown[]) : null
    if (items === null || items.length === 0) return INVALID
    if (!items.every((i): i is CleanupPolicyItem => i === 'compact' || i === 'delete')) return INVALID
    return [...new Set(items)].sort().join(',') as CleanupPolicy
  },
)

export const TOPIC_CONFIG = defineConfig<TopicConfig>({
  kind: 'topic',
  table: {
    segmentBytes: {
      validator: int(14),
      default: 1024 * MiB,
      kafkaName: 'segment.bytes',
      doc:
        'Size at which the active segment is rolled. The minimum is Kafka 3.x\'s (14 bytes, the smallest legacy ' +
        'record); Kafka 4.0 raised it to 1 MiB (KIP-1030), but kafkalite keeps 14 so that tests can roll a ' +
        'segment after every batch: an empty segment always accepts one batch.',
    },
    segmentMs: {
      validator: long(1),
      default: 7 * DAY_MS,
      kafkaName: 'segment.ms',
      doc: 'Age of the active segment (from its first record) after which it is rolled even if not full.',
    },
    segmentJitterMs: {
      validator: long(0),
      default: 0,
      kafkaName: 'segment.jitter.ms',
      doc: 'Maximum random jitter subtracted from segmentMs, so that many partitions do not roll at once.',
    },
    segmentIndexBytes: {
      validator: int(4),
      default: 10 * MiB,
      kafkaName: 'segment.index.bytes',
      doc:
        'Size to which the active segment\'s offset and time indexes are preallocated; a full index rolls the ' +
        'segment. Indexes are trimmed to their entries when the segment is rolled or closed.',
    },
    indexIntervalBytes: {
      validator: int(0),
      default: 4096,
      kafkaName: 'index.interval.bytes',
      doc: 'Bytes of log appended between offset index entries (checked with > before each batch, as Kafka does).',
    },
    retentionMs: {
      validator: long(-1),
      default: 7 * DAY_MS,
      kafkaName: 'retention.ms',
      doc: 'Age after which a segment becomes eligible for deletion under the "delete" policy; -1 = no time limit.',
    },
    retentionBytes: {
      validator: long(-1),
      default: -1,
      kafkaName: 'retention.bytes',
      doc:
        'Partition size above which the oldest segments are deleted under the "delete" policy; -1 = no size ' +
        'limit. (Kafka accepts any negative value as unlimited; kafkalite accepts only -1.)',
    },
    cleanupPolicy: {
      validator: cleanupPolicy,
      default: 'delete',
      kafkaName: 'cleanup.policy',
      doc: '"delete" discards old segments by retention; "compact" keeps the last record per key; both may be set.',
    },
    deleteRetentionMs: {
      validator: long(0),
      default: DAY_MS,
      kafkaName: 'delete.retention.ms',
      doc: 'How long a compacted topic keeps tombstones (and transaction markers) after they are cleaned.',
    },
    minCompactionLagMs: {
      validator: long(0),
      default: 0,
      kafkaName: 'min.compaction.lag.ms',
      doc: 'Minimum age of a record before compaction may remove it. Must not exceed maxCompactionLagMs.',
    },
    maxCompactionLagMs: {
      validator: long(1),
      default: Number.MAX_SAFE_INTEGER,
      kafkaName: 'max.compaction.lag.ms',
      doc: 'Maximum age of an uncompacted record before its segment is compacted regardless of the dirty ratio.',
    },
    minCleanableDirtyRatio: {
      validator: double(0, 1),
      default: 0.5,
      kafkaName: 'min.cleanable.dirty.ratio',
      doc: 'Fraction of the log that must be uncompacted ("dirty") before the cleaner compacts it.',
    },
    maxMessageBytes: {
      validator: int(0),
      default: MiB + 12,
      kafkaName: 'max.message.bytes',
      doc: 'Largest record batch accepted, in bytes as stored (after compression), including the 12-byte log overhead.',
    },
    messageTimestampType: {
      validator: oneOf(['CreateTime', 'LogAppendTime'] as const),
      default: 'CreateTime',
      kafkaName: 'message.timestamp.type',
      doc: 'Whether records keep the producer\'s timestamp or are stamped with the append time.',
    },
    compressionType: {
      validator: oneOf(['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const),
      default: 'producer',
      kafkaName: 'compression.type',
      doc: 'Compression of stored batches: "producer" keeps what the producer sent; anything else recompresses.',
    },
    flushMessages: {
      validator: long(1),
      default: Number.MAX_SAFE_INTEGER,
      kafkaName: 'flush.messages',
      doc:
        'With durability "none": fsync after this many records (1 = every append). The default never forces ' +
        'an fsync, as in Kafka. Redundant with durability "fsync".',
    },
    flushMs: {
      validator: long(0),
      default: Number.MAX_SAFE_INTEGER,
      kafkaName: 'flush.ms',
      doc: 'With durability "none": fsync when the oldest unflushed record is this old. Default: never.',
    },
    fileDeleteDelayMs: {
      validator: long(0),
      default: 60000,
      kafkaName: 'file.delete.delay.ms',
      doc: 'Delay between renaming a segment to .deleted and removing its files, so that open readers can finish.',
    },
    preallocate: {
      validator: bool(),
      default: false,
      kafkaName: 'preallocate',
      doc: 'Preallocate new segment files to segmentBytes.',
    },
    maxDecompressedBatchBytes: {
      validator: int(1),
      default: 64 * MiB,
      kafkaName: null,
      doc:
        'kafkalite-specific (no Kafka equivalent): the most bytes one compressed batch may decompress to. ' +
        'Reading a batch that would exceed it fails with ERR_DECOMPRESSION_LIMIT instead of exhausting memory ' +
        '(a guard against decompression bombs). Must be at least maxMessageBytes.',
    },
    durability: {
      validator: oneOf(['none', 'fsync'] as const),
      default: 'fsync',
      kafkaName: null,
      doc:
        'kafkalite-specific. "fsync": appends are fsynced (concurrent appends share one fsync, a group commit) ' +
        'and the high watermark only covers fsynced records, so an acknowledged record survives a machine ' +
        'crash. "none": appends go to the OS page cache and flushMessages/flushMs decide when to fsync, as in ' +
        'Kafka; a process crash loses nothing, a machine crash may lose acknowledged records. The default is ' +
        '"fsync" because Kafka users expect an acknowledged write (acks=all) to survive the loss of one ' +
        'machine; Kafka gets that from replication without fsync, and a single-node library can only get it ' +
        'from fsync.',
    },
  },
  relations: (config) => {
    if (config.minCompactionLagMs > config.maxCompactionLagMs) {
      throw new InvalidConfigError(
        'minCompactionLagMs',
        config.minCompactionLagMs,
        `must not exceed maxCompactionLagMs (${config.maxCompactionLagMs})`,
        { config: 'topic' },
      )
    }
    if (config.maxDecompressedBatchBytes < config.maxMessageBytes) {
      throw new InvalidConfigError(
        'maxDecompressedBatchBytes',
        config.maxDecompressedBatchBytes,
        `must be at least maxMessageBytes (${config.maxMessageBytes}), or a batch that may be stored could not be read`,
        { config: 'topic' },
      )
    }
    return config
  },
})

/**
 * Resolves a topic's configuration: keys from `input`, the rest from `base` (for example the engine's
 * `topicDefaults`) or Kafka's defaults. Returns a frozen object; throws InvalidConfigError.
 */
export function resolveTopicConfig(input: TopicConfigInput = {}, base?: Readonly<TopicConfig>): Readonly<TopicConfig> {
  return resolveConfig(TOPIC_CONFIG, input, base)
}

export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = resolveTopicConfig()

export const describeTopicConfig = () => describeConfig(TOPIC_CONFIG)

/**
 * Engine configuration: the Kafka broker configs that apply to a single in-process node (log manager,
 * cleaner, group coordinator), with camelCase names and Kafka's defaults, and the topic defaults that every
 * topic's configuration is resolved against (Kafka's `log.*` broker defaults).
 */
import { InvalidConfigError, isKafkaliteError } from '../errors/index'
import { bool, custom, defineConfig, describeConfig, double, int, INVALID, long, resolveConfig } from './define'
import { DEFAULT_TOPIC_CONFIG, resolveTopicConfig, type TopicConfig, type TopicConfigInput } from './topic-config'

const MiB = 1024 * 1024

export interface EngineConfig {
  readonly topicDefaults: Readonly<TopicConfig>
  readonly numPartitions: number
  readonly autoCreateTopicsEnable: boolean
  readonly offsetsTopicNumPartitions: number
  readonly offsetsTopicSegmentBytes: number
  readonly offsetsRetentionMs: number
  readonly offsetsRetentionCheckIntervalMs: number
  readonly offsetMetadataMaxBytes: number
  readonly groupMinSessionTimeoutMs: number
  readonly groupMaxSessionTimeoutMs: number
  readonly groupInitialRebalanceDelayMs: number
  readonly groupMaxSize: number
  readonly logRetentionCheckIntervalMs: number
  readonly logCleanerEnable: boolean
  readonly logCleanerBackoffMs: number
  readonly logCleanerDedupeBufferSize: number
  readonly logCleanerIoBufferLoadFactor: number
  readonly logFlushOffsetCheckpointIntervalMs: number
  readonly logFlushStartOffsetCheckpointIntervalMs: number
  readonly producerIdExpirationMs: number
}

/** What callers may pass: an EngineConfig subset, where `topicDefaults` is itself a partial topic config. */
export type EngineConfigInput = {
  readonly [K in keyof EngineConfig]?: K extends 'topicDefaults' ? TopicConfigInput : EngineConfig[K]
}

/** Resolves nested topic defaults, reporting a bad nested key as `topicDefaults.<key>`. */
const topicDefaults = custom<Readonly<TopicConfig>>('object', 'a topic config object', (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID
  try {
    return resolveTopicConfig(v as TopicConfigInput)
  } catch (e) {
    if (!isKafkaliteError(e, 'ERR_INVALID_CONFIG')) throw e
    const { key, value, allowed } = e.context as { key: string; value: unknown; allowed: string }
    throw new InvalidConfigError(`topicDefaults.${key}`, value, allowed, { config: 'engine' })
  }
})

export const ENGINE_CONFIG = defineConfig<EngineConfig>({
  kind: 'engine',
  table: {
    topicDefaults: {
      validator: topicDefaults,
      default: DEFAULT_TOPIC_CONFIG,
      kafkaName: null,
      doc:
        'Defaults for every topic\'s configuration, in place of Kafka\'s log.* broker configs (log.retention.ms, ' +
        'log.segment.bytes, ...). A topic\'s own settings override them.',
    },
    numPartitions: {
      validator: int(1),
      default: 1,
      kafkaName: 'num.partitions',
      doc: 'Partition count of a topic created without one (including auto-created topics).',
    },
    autoCreateTopicsEnable: {
      validator: bool(),
      default: true,
      kafkaName: 'auto.create.topics.enable',
      doc:
        'Create a topic with numPartitions and topicDefaults when a producer writes to, or a consumer subscribes ' +
        'to, a topic that does not exist. Kafka\'s default (true); set false to make a misspelt topic name an ' +
        'error (ERR_UNKNOWN_TOPIC_OR_PARTITION).',
    },
    offsetsTopicNumPartitions: {
      validator: int(1),
      default: 50,
      kafkaName: 'offsets.topic.num.partitions',
      doc:
        'Partitions of __consumer_offsets, created on first use. A group lives in partition ' +
        'abs(groupId.hashCode()) % this, so changing it once groups exist strands their offsets, as in Kafka.',
    },
    offsetsTopicSegmentBytes: {
      validator: int(14),
      default: 100 * MiB,
      kafkaName: 'offsets.topic.segment.bytes',
      doc: 'segmentBytes of __consumer_offsets, kept small so that compaction and loading stay fast.',
    },
    offsetsRetentionMs: {
      validator: long(1),
      default: 7 * 24 * 60 * 60 * 1000,
      kafkaName: 'offsets.retention.minutes',
      doc:
        'How long the committed offsets of an empty group are kept (Kafka\'s offsets.retention.minutes, here in ' +
        'milliseconds; default 7 days).',
    },
    offsetsRetentionCheckIntervalMs: {
      validator: long(1),
      default: 600000,
      kafkaName: 'offsets.retention.check.interval.ms',
      doc: 'How often expired offsets are looked for.',
    },
    offsetMetadataMaxBytes: {
      validator: int(0, 32767),
      default: 4096,
      kafkaName: 'offset.metadata.max.bytes',
      doc:
        'Largest metadata string (UTF-8 bytes) an offset commit may carry. At most 32767, the most an int16 ' +
        'string length in the offset commit record can hold.',
    },
    groupMinSessionTimeoutMs: {
      validator: int(0),
      default: 6000,
      kafkaName: 'group.min.session.timeout.ms',
      doc: 'Smallest sessionTimeoutMs a member may join a group with.',
    },
    groupMaxSessionTimeoutMs: {
      validator: int(0),
      default: 1800000,
      kafkaName: 'group.max.session.timeout.ms',
      doc: 'Largest sessionTimeoutMs a member may join a group with.',
    },
    groupInitialRebalanceDelayMs: {
      validator: int(0),
      default: 3000,
      kafkaName: 'group.initial.rebalance.delay.ms',
      doc:
        'How long the first rebalance of an empty group waits for more members, so that consumers started ' +
        'together get one rebalance rather than several. Kafka\'s default; 0 suits tests.',
    },
    groupMaxSize: {
      validator: int(1),
      default: 2 ** 31 - 1,
      kafkaName: 'group.max.size',
      doc: 'Most members one group may have.',
    },
    logRetentionCheckIntervalMs: {
      validator: long(1),
      default: 300000,
      kafkaName: 'log.retention.check.interval.ms',
      doc: 'How often segments are checked against retention (retentionMs, retentionBytes).',
    },
    logCleanerEnable: {
      validator: bool(),
      default: true,
      kafkaName: 'log.cleaner.enable',
      doc: 'Run the log cleaner, which compacts topics whose cleanupPolicy includes "compact" (and __consumer_offsets).',
    },
    logCleanerBackoffMs: {
      validator: long(0),
      default: 15000,
      kafkaName: 'log.cleaner.backoff.ms',
      doc: 'How long the cleaner sleeps when no log needs cleaning.',
    },
    logCleanerDedupeBufferSize: {
      validator: int(1),
      default: 128 * MiB,
      kafkaName: 'log.cleaner.dedupe.buffer.size',
      doc:
        'Memory for the cleaner\'s key → offset map. It bounds how many distinct keys one cleaning pass can ' +
        'handle; Kafka caps it at 2^31 - 1 bytes (per cleaner thread), and so does kafkalite.',
    },
    logCleanerIoBufferLoadFactor: {
      validator: double(0, 1, { minExclusive: true }),
      default: 0.9,
      kafkaName: 'log.cleaner.io.buffer.load.factor',
      doc: 'How full the cleaner\'s key → offset map may get before a pass stops (Kafka\'s dedupe buffer load factor).',
    },
    logFlushOffsetCheckpointIntervalMs: {
      validator: int(0),
      default: 60000,
      kafkaName: 'log.flush.offset.checkpoint.interval.ms',
      doc: 'How often recovery-point-offset-checkpoint is written; a recent recovery point shortens recovery.',
    },
    logFlushStartOffsetCheckpointIntervalMs: {
      validator: int(0),
      default: 60000,
      kafkaName: 'log.flush.start.offset.checkpoint.interval.ms',
      doc: 'How often log-start-offset-checkpoint is written.',
    },
    producerIdExpirationMs: {
      validator: int(1),
      default: 86400000,
      kafkaName: 'producer.id.expiration.ms',
      doc: 'How long a producer id is remembered after its last write; after that its sequence state is dropped.',
    },
  },
  relations: (config) => {
    if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
      throw new InvalidConfigError(
        'groupMinSessionTimeoutMs',
        config.groupMinSessionTimeoutMs,
        `must not exceed groupMaxSessionTimeoutMs (${config.groupMaxSessionTimeoutMs})`,
        { config: 'engine' },
      )
    }
    return config
  },
})

/** Resolves the engine's configuration; returns a frozen object or throws InvalidConfigError. */
export function resolveEngineConfig(input: EngineConfigInput = {}, base?: Readonly<EngineConfig>): Readonly<EngineConfig> {
  return resolveConfig(ENGINE_CONFIG, input, base)
}

export const describeEngineConfig = () => describeConfig(ENGINE_CONFIG)

/**
 * Consumer configuration: the Kafka consumer configs (`ConsumerConfig`) that mean something in process, with
 * camelCase names and Kafka's defaults, except two deliberate deviations noted on the keys:
 * `enableAutoCommit` defaults to false and `partitionAssignmentStrategy` to ["cooperative-sticky"].
 */
import { InvalidConfigError } from '../errors/index'
import { bool, custom, defineConfig, describeConfig, int, INVALID, nullableString, oneOf, resolveConfig, string } from './define'

const MiB = 1024 * 1024

export type AutoOffsetReset = 'earliest' | 'latest' | 'none'
export type IsolationLevel = 'read_uncommitted' | 'read_committed'
/** Kafka's short names for its built-in assignors. */
export type AssignmentStrategy = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky'

export interface ConsumerConfig {
  readonly groupId: string | null
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly autoOffsetReset: AutoOffsetReset
  readonly enableAutoCommit: boolean
  readonly autoCommitIntervalMs: number
  readonly maxPollRecords: number
  readonly maxPollIntervalMs: number
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly fetchMaxBytes: number
  readonly maxPartitionFetchBytes: number
  readonly fetchMaxWaitMs: number
  readonly fetchMinBytes: number
  readonly isolationLevel: IsolationLevel
  readonly partitionAssignmentStrategy: readonly AssignmentStrategy[]
}

/** What callers may pass: a ConsumerConfig subset, where one assignment strategy may be given bare. */
export type ConsumerConfigInput = {
  readonly [K in keyof ConsumerConfig]?: K extends 'partitionAssignmentStrategy'
    ? AssignmentStrategy | readonly AssignmentStrategy[]
    : ConsumerConfig[K]
}

const STRATEGIES: readonly AssignmentStrategy[] = ['range', 'roundrobin', 'sticky', 'cooperative-sticky']

const assignmentStrategies = custom<readonly AssignmentStrategy[]>(
  'list',
  `a non-empty list, without repeats, of ${STRATEGIES.map((s) => JSON.stringify(s)).join(', ')}`,
  (v) => {
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? (v as unknown[]) : null
    if (list === null || list.length === 0 || new Set(list).size !== list.length) return INVALID
    if (!list.every((s): s is AssignmentStrategy => (STRATEGIES as readonly unknown[]).includes(s))) return INVALID
    return [...list]
  },
)

export const CONSUMER_CONFIG = defineConfig<ConsumerConfig>({
  kind: 'consumer',
  table: {
    groupId: {
      validator: nullableString({ nonEmpty: true }),
      default: null,
      kafkaName: 'group.id',
      doc: 'The consumer group to join. null: no group; partitions are assigned by hand and offsets are not committed.',
    },
    groupInstanceId: {
      validator: nullableString({ nonEmpty: true }),
      default: null,
      kafkaName: 'group.instance.id',
      doc: 'Static membership id: a member that rejoins with the same id within sessionTimeoutMs causes no rebalance. Needs groupId.',
    },
    clientId: {
      validator: string(),
      default: '',
      kafkaName: 'client.id',
      doc: 'A name for the consumer in logs, errors and group metadata. Kafka generates "consumer-<group>-<n>" when it is empty.',
    },
    autoOffsetReset: {
      validator: oneOf(['earliest', 'latest', 'none'] as const),
      default: 'latest',
      kafkaName: 'auto.offset.reset',
      doc:
        'Where to start when the group has no committed offset or it is out of range: the log start, the log ' +
        'end, or "none" to fail with ERR_OFFSET_OUT_OF_RANGE.',
    },
    enableAutoCommit: {
      validator: bool(),
      default: false,
      kafkaName: 'enable.auto.commit',
      doc:
        'Commit the offsets returned by poll every autoCommitIntervalMs. Deviation: Kafka defaults to true; ' +
        'kafkalite defaults to false because auto-commit can commit records the application has not finished ' +
        'processing, which turns a crash into lost records (at-most-once). Commit explicitly after processing ' +
        'for at-least-once. Needs groupId.',
    },
    autoCommitIntervalMs: {
      validator: int(0),
      default: 5000,
      kafkaName: 'auto.commit.interval.ms',
      doc: 'Interval between automatic commits when enableAutoCommit is true.',
    },
    maxPollRecords: {
      validator: int(1),
      default: 500,
      kafkaName: 'max.poll.records',
      doc: 'Most records one poll returns.',
    },
    maxPollIntervalMs: {
      validator: int(1),
      default: 300000,
      kafkaName: 'max.poll.interval.ms',
      doc: 'Longest allowed gap between polls; a member that exceeds it leaves the group. Also the rebalance timeout.',
    },
    sessionTimeoutMs: {
      validator: int(1),
      default: 45000,
      kafkaName: 'session.timeout.ms',
      doc:
        'A member that sends no heartbeat for this long is removed from the group. The engine\'s ' +
        'groupMinSessionTimeoutMs and groupMaxSessionTimeoutMs bound it when the member joins.',
    },
    heartbeatIntervalMs: {
      validator: int(1),
      default: 3000,
      kafkaName: 'heartbeat.interval.ms',
      doc: 'Interval between heartbeats. Must be lower than sessionTimeoutMs (Kafka advises at most a third of it).',
    },
    fetchMaxBytes: {
      validator: int(0),
      default: 50 * MiB,
      kafkaName: 'fetch.max.bytes',
      doc: 'Most bytes one fetch returns across partitions; the first batch is returned even if larger, so progress is always made.',
    },
    maxPartitionFetchBytes: {
      validator: int(0),
      default: MiB,
      kafkaName: 'max.partition.fetch.bytes',
      doc: 'Most bytes one fetch returns from one partition; the first batch is returned even if larger.',
    },
    fetchMaxWaitMs: {
      validator: int(0),
      default: 500,
      kafkaName: 'fetch.max.wait.ms',
      doc: 'How long a fetch waits for fetchMinBytes of new data before returning what there is.',
    },
    fetchMinBytes: {
      validator: int(0),
      default: 1,
      kafkaName: 'fetch.min.bytes',
      doc: 'Bytes of new data a fetch waits for (up to fetchMaxWaitMs).',
    },
    isolationLevel: {
      validator: oneOf(['read_uncommitted', 'read_committed'] as const),
      default: 'read_uncommitted',
      kafkaName: 'isolation.level',
      doc: '"read_committed" reads only up to the last stable offset and skips aborted transactional records.',
    },
    partitionAssignmentStrategy: {
      validator: assignmentStrategies,
      default: ['cooperative-sticky'],
      kafkaName: 'partition.assignment.strategy',
      doc:
        'Assignors this member supports, in order of preference; the group uses the first one all members ' +
        'support. Deviation: Kafka defaults to ["range", "cooperative-sticky"] (range chosen, cooperative kept ' +
        'for upgrades); kafkalite has no upgrade path to keep and defaults to ["cooperative-sticky"], which ' +
        'moves only the partitions that must move. A single name may be given bare.',
    },
  },
  relations: (config) => {
    if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
      throw new InvalidConfigError(
        'heartbeatIntervalMs',
        config.heartbeatIntervalMs,
        `must be lower than sessionTimeoutMs (${config.sessionTimeoutMs})`,
        { config: 'consumer' },
      )
    }
    if (config.enableAutoCommit && config.groupId === null) {
      throw new InvalidConfigError('enableAutoCommit', true, 'requires a groupId, but groupId is null', { config: 'consumer' })
    }
    if (config.groupInstanceId !== null && config.groupId === null) {
      throw new InvalidConfigError('groupInstanceId', config.groupInstanceId, 'requires a groupId, but groupId is null', {
        config: 'consumer',
      })
    }
    return config
  },
})

/** Resolves a consumer's configuration; returns a frozen object or throws InvalidConfigError. */
export function resolveConsumerConfig(input: ConsumerConfigInput = {}, base?: Readonly<ConsumerConfig>): Readonly<ConsumerConfig> {
  return resolveConfig(CONSUMER_CONFIG, input, base)
}

export const describeConsumerConfig = () => describeConfig(CONSUMER_CONFIG)

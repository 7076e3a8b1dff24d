/**
 * Producer configuration: the Kafka producer configs (`ProducerConfig`) that mean something in process, with
 * camelCase names and Kafka 4.0's defaults. Network-only settings (bootstrap servers, in-flight requests,
 * socket buffers, metadata ages) have no equivalent and are not accepted.
 *
 * In process, a "request" is one append of a batch to a partition log (including, with topic durability
 * "fsync", waiting for its fsync), and a "retry" repeats an append that failed with a retriable error.
 */
import { InvalidConfigError } from '../errors/index'
import { custom, defineConfig, describeConfig, INT32_MAX, INVALID, int, long, oneOf, resolveConfig, string, bool } from './define'

const MiB = 1024 * 1024

export type Acks = 0 | 1 | 'all'
export type ProducerCompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** A custom partitioner: returns a partition in [0, numPartitions). */
export type PartitionerFunction = (input: {
  readonly topic: string
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly numPartitions: number
}) => number

export type Partitioner = 'default' | 'roundRobin' | PartitionerFunction

export interface ProducerConfig {
  readonly clientId: string
  readonly acks: Acks
  readonly idempotent: boolean
  readonly lingerMs: number
  readonly batchSize: number
  readonly bufferMemory: number
  readonly maxBlockMs: number
  readonly compressionType: ProducerCompressionType
  readonly maxRequestSize: number
  readonly partitioner: Partitioner
  readonly retries: number
  readonly retryBackoffMs: number
  readonly deliveryTimeoutMs: number
  readonly requestTimeoutMs: number
}

/** What callers may pass: a ProducerConfig subset, where `acks` may also be -1 (Kafka's synonym for "all"). */
export type ProducerConfigInput = {
  readonly [K in keyof ProducerConfig]?: K extends 'acks' ? Acks | -1 : ProducerConfig[K]
}

const acks = custom<Acks>('enum', '0, 1, "all" or -1 (the same as "all")', (v) =>
  v === 'all' || v === -1 ? 'all' : v === 0 || v === 1 ? v : INVALID,
)

const partitioner = custom<Partitioner>('function', '"default", "roundRobin" or a function', (v) =>
  v === 'default' || v === 'roundRobin' || typeof v === 'function' ? (v as Partitioner) : INVALID,
)

export const PRODUCER_CONFIG = defineConfig<ProducerConfig>({
  kind: 'producer',
  table: {
    clientId: {
      validator: string(),
      default: '',
      kafkaName: 'client.id',
      doc: 'A name for the producer in logs and errors. Kafka generates "producer-<n>" when it is empty.',
    },
    acks: {
      validator: acks,
      default: 'all',
      kafkaName: 'acks',
      doc:
        '0: resolve once the record is in the producer\'s buffer (offset -1). 1: resolve once the batch is ' +
        'appended to the log (in the OS: survives a process crash). "all" (or -1): resolve once the batch is ' +
        'fsynced, whatever the topic\'s durability (survives a machine crash). Default "all", as in Kafka 3.0+.',
    },
    idempotent: {
      validator: bool(),
      default: true,
      kafkaName: 'enable.idempotence',
      doc:
        'Kafka\'s enable.idempotence: give the producer an id and sequence numbers so that a retried append is ' +
        'not written twice. Requires acks "all" and retries > 0. As in Kafka, setting it to true explicitly with ' +
        'an incompatible acks or retries is an error, while leaving it at the default silently turns it off.',
    },
    lingerMs: {
      validator: long(0),
      default: 5,
      kafkaName: 'linger.ms',
      doc: 'How long to wait for more records before appending a batch that is not full. Kafka 4.0 default (KIP-1030).',
    },
    batchSize: {
      validator: int(0),
      default: 16384,
      kafkaName: 'batch.size',
      doc: 'Target size in bytes of a batch per partition (Kafka\'s batch.size; there is no separate batchBytes). 0 disables batching.',
    },
    bufferMemory: {
      validator: long(0),
      default: 32 * MiB,
      kafkaName: 'buffer.memory',
      doc: 'Bytes of records the producer may hold before send() blocks (up to maxBlockMs).',
    },
    maxBlockMs: {
      validator: long(0),
      default: 60000,
      kafkaName: 'max.block.ms',
      doc: 'How long send() may wait for buffer space before failing with ERR_BUFFER_EXHAUSTED.',
    },
    compressionType: {
      validator: oneOf(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const),
      default: 'none',
      kafkaName: 'compression.type',
      doc: 'Compression of the batches the producer writes.',
    },
    maxRequestSize: {
      validator: int(0),
      default: MiB,
      kafkaName: 'max.request.size',
      doc: 'Largest batch (and so largest record) the producer will append, in bytes.',
    },
    partitioner: {
      validator: partitioner,
      default: 'default',
      kafkaName: 'partitioner.class',
      doc:
        '"default" is Kafka\'s built-in partitioner: murmur2 of the key for keyed records, sticky partitions ' +
        'for null keys. "roundRobin" is Kafka\'s RoundRobinPartitioner, which ignores keys. A function picks ' +
        'the partition itself.',
    },
    retries: {
      validator: int(0, INT32_MAX),
      default: INT32_MAX,
      kafkaName: 'retries',
      doc: 'How many times a batch that failed with a retriable error is retried, within deliveryTimeoutMs.',
    },
    retryBackoffMs: {
      validator: long(0),
      default: 100,
      kafkaName: 'retry.backoff.ms',
      doc: 'How long to wait before retrying a batch that failed with a retriable error (ERR_IO, ERR_NO_SPACE).',
    },
    deliveryTimeoutMs: {
      validator: int(0),
      default: 120000,
      kafkaName: 'delivery.timeout.ms',
      doc:
        'Upper bound on the time from send() to success or failure, retries included. Must be at least ' +
        'lingerMs + requestTimeoutMs; when left at the default it is raised to that sum, as in Kafka.',
    },
    requestTimeoutMs: {
      validator: int(0),
      default: 30000,
      kafkaName: 'request.timeout.ms',
      doc:
        'Kept for Kafka compatibility and for the deliveryTimeoutMs floor. In process an append is synchronous ' +
        'and cannot time out, and a batch waiting for its fsync is not re-sent (it is already in the log), so ' +
        'this bounds nothing on its own.',
    },
  },
  relations: (config, explicit) => {
    let { idempotent, deliveryTimeoutMs } = config
    if (idempotent && config.acks !== 'all') {
      if (explicit.has('idempotent')) {
        throw new InvalidConfigError('idempotent', true, `requires acks "all", but acks is ${JSON.stringify(config.acks)}`, {
          config: 'producer',
          acks: config.acks,
        })
      }
      idempotent = false
    }
    if (idempotent && config.retries === 0) {
      if (explicit.has('idempotent')) {
        throw new InvalidConfigError('idempotent', true, 'requires retries > 0, but retries is 0', { config: 'producer', retries: 0 })
      }
      idempotent = false
    }
    const floor = Math.min(config.lingerMs + config.requestTimeoutMs, INT32_MAX)
    if (deliveryTimeoutMs < floor) {
      if (explicit.has('deliveryTimeoutMs')) {
        throw new InvalidConfigError(
          'deliveryTimeoutMs',
          deliveryTimeoutMs,
          `must be at least lingerMs + requestTimeoutMs (${config.lingerMs} + ${config.requestTimeoutMs} = ${floor})`,
          { config: 'producer' },
        )
      }
      deliveryTimeoutMs = floor
    }
    return { ...config, idempotent, deliveryTimeoutMs }
  },
})

/** Resolves a producer's configuration; returns a frozen object or throws InvalidConfigError. */
export function resolveProducerConfig(input: ProducerConfigInput = {}, base?: Readonly<ProducerConfig>): Readonly<ProducerConfig> {
  return resolveConfig(PRODUCER_CONFIG, input, base)
}

export const describeProducerConfig = () => describeConfig(PRODUCER_CONFIG)

/**
 * Producer config: every key's default (Kafka 4.0's), a valid value and out-of-range values; the acks
 * normalisation; Kafka's idempotence rules (an explicit conflict is an error naming both keys, a defaulted
 * one turns idempotence off); and the delivery timeout floor.
 */
import { describe, expect, it } from 'vitest'
import { PRODUCER_CONFIG, resolveProducerConfig } from '../../src/config/producer-config'
import { describeKeyCases, expectInvalidConfig, type KeyCase } from './key-cases'

const MAX = Number.MAX_SAFE_INTEGER
const INT = '2147483647'
const customPartitioner = ({ numPartitions }: { numPartitions: number }) => numPartitions - 1

const CASES: KeyCase[] = [
  { key: 'clientId', default: '', valid: [['billing']], invalid: [null, 5], allowed: 'a string' },
  { key: 'acks', default: 'all', valid: [[0], [1], ['all'], [-1, 'all']], invalid: [2, '1', 'ALL', -2], allowed: '0, 1, "all" or -1' },
  { key: 'idempotent', default: true, valid: [[false]], invalid: ['yes'], allowed: 'true or false' },
  { key: 'lingerMs', default: 5, valid: [[0], [100]], invalid: [-1, 0.5], allowed: `[0, ${MAX}]` },
  { key: 'batchSize', default: 16384, valid: [[0], [1_048_576]], invalid: [-1, 2 ** 31], allowed: `[0, ${INT}]` },
  { key: 'bufferMemory', default: 33_554_432, valid: [[0], [1024]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'maxBlockMs', default: 60_000, valid: [[0]], invalid: [-1], allowed: `[0, ${MAX}]` },
  {
    key: 'compressionType',
    default: 'none',
    valid: [['gzip'], ['snappy'], ['lz4'], ['zstd']],
    invalid: ['producer', 'uncompressed', 'GZIP'],
    allowed: 'one of "none", "gzip", "snappy", "lz4", "zstd"',
  },
  { key: 'maxRequestSize', default: 1_048_576, valid: [[0], [10]], invalid: [-1], allowed: `[0, ${INT}]` },
  {
    key: 'partitioner',
    default: 'default',
    valid: [['roundRobin'], [customPartitioner]],
    invalid: ['murmur2', 'RoundRobin', 42],
    allowed: '"default", "roundRobin" or a function',
  },
  { key: 'retries', default: 2_147_483_647, valid: [[0], [3]], invalid: [-1, 2 ** 31], allowed: `[0, ${INT}]` },
  { key: 'retryBackoffMs', default: 100, valid: [[0], [1000]], invalid: [-1, 0.5], allowed: `[0, ${MAX}]` },
  { key: 'deliveryTimeoutMs', default: 120_000, valid: [[30_005], [200_000]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'requestTimeoutMs', default: 30_000, valid: [[0], [1000]], invalid: [-1], allowed: `[0, ${INT}]` },
]

// acks 0/1 and retries 0 pass on their own: idempotence is left at its default and is turned off.
describeKeyCases(PRODUCER_CONFIG, (input) => resolveProducerConfig(input), CASES)

describe('producer config > idempotence', () => {
  it('is on by default with acks "all"', () => {
    expect(resolveProducerConfig({})).toMatchObject({ idempotent: true, acks: 'all' })
  })

  it('is turned off, as in Kafka, when acks is not "all" and idempotence was left at its default', () => {
    expect(resolveProducerConfig({ acks: 1 }).idempotent).toBe(false)
    expect(resolveProducerConfig({ acks: 0 }).idempotent).toBe(false)
    expect(resolveProducerConfig({ retries: 0 }).idempotent).toBe(false)
  })

  it('is an error naming both keys when set explicitly with acks other than "all"', () => {
    const e = expectInvalidConfig(() => resolveProducerConfig({ idempotent: true, acks: 1 }))
    expect(e.message).toBe('Invalid value true for idempotent: requires acks "all", but acks is 1')
    expect(e.context.key).toBe('idempotent')
    expect(e.context.acks).toBe(1)
  })

  it('is an error naming both keys when set explicitly with retries 0', () => {
    const e = expectInvalidConfig(() => resolveProducerConfig({ idempotent: true, retries: 0 }))
    expect(e.message).toBe('Invalid value true for idempotent: requires retries > 0, but retries is 0')
  })

  it('accepts acks -1 as "all" for idempotence', () => {
    expect(resolveProducerConfig({ idempotent: true, acks: -1 })).toMatchObject({ idempotent: true, acks: 'all' })
  })

  it('allows acks 1 once idempotence is turned off explicitly', () => {
    expect(resolveProducerConfig({ idempotent: false, acks: 1 })).toMatchObject({ idempotent: false, acks: 1 })
  })
})

describe('producer config > delivery timeout', () => {
  it('must be at least lingerMs + requestTimeoutMs when set explicitly', () => {
    const e = expectInvalidConfig(() => resolveProducerConfig({ deliveryTimeoutMs: 1000, lingerMs: 5, requestTimeoutMs: 2000 }))
    expect(e.message).toBe(
      'Invalid value 1000 for deliveryTimeoutMs: must be at least lingerMs + requestTimeoutMs (5 + 2000 = 2005)',
    )
    expect(resolveProducerConfig({ deliveryTimeoutMs: 2005, requestTimeoutMs: 2000 }).deliveryTimeoutMs).toBe(2005)
  })

  it('is raised to lingerMs + requestTimeoutMs when left at the default, as in Kafka', () => {
    expect(resolveProducerConfig({ requestTimeoutMs: 200_000 }).deliveryTimeoutMs).toBe(200_005)
  })
})

describe('producer config > resolve', () => {
  it('returns a frozen object and keeps a partitioner function unfrozen and identical', () => {
    const fn = () => 0
    const config = resolveProducerConfig({ partitioner: fn })
    expect(Object.isFrozen(config)).toBe(true)
    expect(config.partitioner).toBe(fn)
    expect(Object.isFrozen(fn)).toBe(false)
  })

  it.each([
    ['enable.idempotence', 'idempotent'],
    ['batch.size', 'batchSize'],
    ['linger.ms', 'lingerMs'],
    ['partitioner.class', 'partitioner'],
    ['compression.type', 'compressionType'],
  ])('rejects the Kafka name %s and suggests %s', (kafkaName, key) => {
    expect(expectInvalidConfig(() => resolveProducerConfig({ [kafkaName]: 1 } as never)).message).toMatch(new RegExp(`did you mean ${key}\\?$`))
  })

  it('rejects network-only Kafka settings as unknown keys', () => {
    expectInvalidConfig(() => resolveProducerConfig({ bootstrapServers: 'localhost:9092' } as never))
    expectInvalidConfig(() => resolveProducerConfig({ 'max.in.flight.requests.per.connection': 5 } as never))
  })
})

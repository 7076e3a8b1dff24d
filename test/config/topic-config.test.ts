/**
 * Topic config: every key's default (Kafka's), a valid value, and out-of-range values (Kafka's ranges, with
 * the documented kafkalite differences), plus cleanup policy normalisation, relations, freezing and the
 * Kafka-name hints.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_TOPIC_CONFIG, describeTopicConfig, resolveTopicConfig, TOPIC_CONFIG } from '../../src/config/topic-config'
import { describeKeyCases, expectInvalidConfig, type KeyCase } from './key-cases'

const DAY = 86_400_000
const MAX = Number.MAX_SAFE_INTEGER
const INT = '2147483647'

const CASES: KeyCase[] = [
  { key: 'segmentBytes', default: 1_073_741_824, valid: [[14], [1024]], invalid: [13, 0, 2 ** 31, 1.5, '1024'], allowed: `[14, ${INT}]` },
  { key: 'segmentMs', default: 7 * DAY, valid: [[1], [60_000]], invalid: [0, -1, MAX + 1], allowed: `[1, ${MAX}]` },
  { key: 'segmentJitterMs', default: 0, valid: [[0], [1000]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'segmentIndexBytes', default: 10_485_760, valid: [[4], [4096]], invalid: [3, -8], allowed: `[4, ${INT}]` },
  { key: 'indexIntervalBytes', default: 4096, valid: [[0], [1]], invalid: [-1, 2 ** 31], allowed: `[0, ${INT}]` },
  { key: 'retentionMs', default: 7 * DAY, valid: [[-1], [0], [MAX]], invalid: [-2, Infinity], allowed: `[-1, ${MAX}]` },
  { key: 'retentionBytes', default: -1, valid: [[-1], [1_000_000]], invalid: [-2], allowed: `[-1, ${MAX}]` },
  {
    key: 'cleanupPolicy',
    default: 'delete',
    valid: [['delete'], ['compact'], ['compact,delete'], ['delete,compact', 'compact,delete'], [['delete', 'compact'], 'compact,delete'], [['compact'], 'compact'], ['compact, delete', 'compact,delete']],
    invalid: ['', 'Compact', 'compact,', [], ['delete', 'archive'], 3],
    allowed: '"delete", "compact", "compact,delete"',
  },
  { key: 'deleteRetentionMs', default: DAY, valid: [[0]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'minCompactionLagMs', default: 0, valid: [[0], [1000]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'maxCompactionLagMs', default: MAX, valid: [[1], [DAY]], invalid: [0], allowed: `[1, ${MAX}]` },
  { key: 'minCleanableDirtyRatio', default: 0.5, valid: [[0], [1], [0.25]], invalid: [-0.1, 1.1, Number.NaN], allowed: '[0, 1]' },
  { key: 'maxMessageBytes', default: 1_048_588, valid: [[0], [100]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'messageTimestampType', default: 'CreateTime', valid: [['LogAppendTime']], invalid: ['createtime', 'Now'], allowed: 'one of "CreateTime", "LogAppendTime"' },
  {
    key: 'compressionType',
    default: 'producer',
    valid: [['uncompressed'], ['gzip'], ['snappy'], ['lz4'], ['zstd']],
    invalid: ['none', 'GZIP', 'brotli'],
    allowed: 'one of "producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"',
  },
  { key: 'flushMessages', default: MAX, valid: [[1]], invalid: [0], allowed: `[1, ${MAX}]` },
  { key: 'flushMs', default: MAX, valid: [[0], [1000]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'fileDeleteDelayMs', default: 60_000, valid: [[0]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'preallocate', default: false, valid: [[true]], invalid: ['true', 1], allowed: 'true or false' },
  { key: 'maxDecompressedBatchBytes', default: 67_108_864, valid: [[2 ** 31 - 1], [1_048_588]], invalid: [0, 2 ** 31], allowed: `[1, ${INT}]` },
  { key: 'durability', default: 'fsync', valid: [['none']], invalid: ['always', true], allowed: 'one of "none", "fsync"' },
]

describeKeyCases(TOPIC_CONFIG, (input) => resolveTopicConfig(input), CASES, (key) =>
  // A valid maxDecompressedBatchBytes below the default maxMessageBytes needs a smaller maxMessageBytes.
  key === 'maxDecompressedBatchBytes' ? { maxMessageBytes: 1000 } : {},
)

describe('topic config > relations', () => {
  it('requires minCompactionLagMs <= maxCompactionLagMs, naming both', () => {
    expect(resolveTopicConfig({ minCompactionLagMs: 5, maxCompactionLagMs: 5 }).minCompactionLagMs).toBe(5)
    const e = expectInvalidConfig(() => resolveTopicConfig({ minCompactionLagMs: 10, maxCompactionLagMs: 5 }))
    expect(e.message).toBe('Invalid value 10 for minCompactionLagMs: must not exceed maxCompactionLagMs (5)')
  })

  it('checks relations against the base as well as the input', () => {
    const base = resolveTopicConfig({ maxCompactionLagMs: 100 })
    expectInvalidConfig(() => resolveTopicConfig({ minCompactionLagMs: 200 }, base))
  })

  it('requires maxDecompressedBatchBytes >= maxMessageBytes', () => {
    const e = expectInvalidConfig(() => resolveTopicConfig({ maxDecompressedBatchBytes: 1000 }))
    expect(e.message).toMatch(/maxDecompressedBatchBytes: must be at least maxMessageBytes \(1048588\)/)
    expect(resolveTopicConfig({ maxDecompressedBatchBytes: 1000, maxMessageBytes: 1000 }).maxDecompressedBatchBytes).toBe(1000)
  })
})

describe('topic config > resolve', () => {
  it('returns a frozen object', () => {
    const config = resolveTopicConfig({ retentionMs: -1 })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(DEFAULT_TOPIC_CONFIG)).toBe(true)
  })

  it('takes unset keys from a base config', () => {
    const base = resolveTopicConfig({ segmentBytes: 1024, cleanupPolicy: 'compact' })
    expect(resolveTopicConfig({ retentionMs: 1 }, base)).toMatchObject({ segmentBytes: 1024, cleanupPolicy: 'compact', retentionMs: 1 })
  })

  it.each([
    ['retention.ms', 'retentionMs'],
    ['segment.bytes', 'segmentBytes'],
    ['cleanup.policy', 'cleanupPolicy'],
    ['min.cleanable.dirty.ratio', 'minCleanableDirtyRatio'],
    ['flush.messages', 'flushMessages'],
    ['message.timestamp.type', 'messageTimestampType'],
  ])('rejects the Kafka name %s and suggests %s', (kafkaName, key) => {
    const e = expectInvalidConfig(() => resolveTopicConfig({ [kafkaName]: 1 } as never))
    expect(e.message).toBe(`Invalid value 1 for ${kafkaName}: unknown topic config key; did you mean ${key}?`)
    expect(e.context.suggestion).toBe(key)
  })

  it('names an unknown key that resembles nothing, without a suggestion', () => {
    const e = expectInvalidConfig(() => resolveTopicConfig({ replicationFactor: 3 } as never))
    expect(e.message).toBe('Invalid value 3 for replicationFactor: unknown topic config key')
  })

  it('maps every key with a Kafka name to a distinct Kafka name, and documents every key', () => {
    const rows = describeTopicConfig()
    const names = rows.map((r) => r.kafkaName).filter((n) => n !== null)
    expect(new Set(names).size).toBe(names.length)
    expect(rows.filter((r) => r.kafkaName === null).map((r) => r.key)).toEqual(['maxDecompressedBatchBytes', 'durability'])
    for (const row of rows) expect(row.doc.length).toBeGreaterThan(20)
  })
})

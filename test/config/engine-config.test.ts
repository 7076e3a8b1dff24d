/**
 * Engine config: every key's default (Kafka's broker defaults), a valid value and out-of-range values, the
 * nested topic defaults (resolved and reported as topicDefaults.<key>) and the session timeout bounds.
 */
import { describe, expect, it } from 'vitest'
import { ENGINE_CONFIG, resolveEngineConfig } from '../../src/config/engine-config'
import { DEFAULT_TOPIC_CONFIG, resolveTopicConfig } from '../../src/config/topic-config'
import { describeKeyCases, expectInvalidConfig, type KeyCase } from './key-cases'

const MAX = Number.MAX_SAFE_INTEGER
const INT = '2147483647'

const CASES: KeyCase[] = [
  {
    key: 'topicDefaults',
    default: DEFAULT_TOPIC_CONFIG,
    valid: [[{ retentionMs: -1 }, resolveTopicConfig({ retentionMs: -1 })], [{}, DEFAULT_TOPIC_CONFIG]],
    invalid: [null, 'delete', []],
    allowed: 'a topic config object',
  },
  { key: 'numPartitions', default: 1, valid: [[3]], invalid: [0], allowed: `[1, ${INT}]` },
  { key: 'autoCreateTopicsEnable', default: true, valid: [[false]], invalid: ['false'], allowed: 'true or false' },
  { key: 'offsetsTopicNumPartitions', default: 50, valid: [[1]], invalid: [0], allowed: `[1, ${INT}]` },
  { key: 'offsetsTopicSegmentBytes', default: 104_857_600, valid: [[14]], invalid: [13], allowed: `[14, ${INT}]` },
  { key: 'offsetsRetentionMs', default: 604_800_000, valid: [[1]], invalid: [0], allowed: `[1, ${MAX}]` },
  { key: 'offsetsRetentionCheckIntervalMs', default: 600_000, valid: [[1]], invalid: [0], allowed: `[1, ${MAX}]` },
  { key: 'offsetMetadataMaxBytes', default: 4096, valid: [[0], [32767]], invalid: [32768, -1], allowed: '[0, 32767]' },
  { key: 'groupMinSessionTimeoutMs', default: 6000, valid: [[0], [1000]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'groupMaxSessionTimeoutMs', default: 1_800_000, valid: [[6000]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'groupInitialRebalanceDelayMs', default: 3000, valid: [[0]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'groupMaxSize', default: 2_147_483_647, valid: [[1]], invalid: [0], allowed: `[1, ${INT}]` },
  { key: 'logRetentionCheckIntervalMs', default: 300_000, valid: [[1]], invalid: [0], allowed: `[1, ${MAX}]` },
  { key: 'logCleanerEnable', default: true, valid: [[false]], invalid: [0], allowed: 'true or false' },
  { key: 'logCleanerBackoffMs', default: 15_000, valid: [[0]], invalid: [-1], allowed: `[0, ${MAX}]` },
  { key: 'logCleanerDedupeBufferSize', default: 134_217_728, valid: [[1], [2 ** 31 - 1]], invalid: [0, 2 ** 31], allowed: `[1, ${INT}]` },
  { key: 'logCleanerIoBufferLoadFactor', default: 0.9, valid: [[1], [0.5]], invalid: [0, 1.5], allowed: '(0, 1]' },
  { key: 'logFlushOffsetCheckpointIntervalMs', default: 60_000, valid: [[0]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'logFlushStartOffsetCheckpointIntervalMs', default: 60_000, valid: [[0]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'producerIdExpirationMs', default: 86_400_000, valid: [[1]], invalid: [0], allowed: `[1, ${INT}]` },
]

describeKeyCases(ENGINE_CONFIG, (input) => resolveEngineConfig(input), CASES)

describe('engine config > topic defaults', () => {
  it('resolves nested topic defaults into a frozen topic config', () => {
    const config = resolveEngineConfig({ topicDefaults: { cleanupPolicy: ['delete', 'compact'], segmentBytes: 1024 } })
    expect(config.topicDefaults).toMatchObject({ cleanupPolicy: 'compact,delete', segmentBytes: 1024, retentionMs: 604_800_000 })
    expect(Object.isFrozen(config.topicDefaults)).toBe(true)
  })

  it('reports a bad nested value as topicDefaults.<key>, with its range', () => {
    const e = expectInvalidConfig(() => resolveEngineConfig({ topicDefaults: { segmentBytes: 1 } }))
    expect(e.message).toBe('Invalid value 1 for topicDefaults.segmentBytes: an integer in [14, 2147483647]')
  })

  it('reports a Kafka name inside topic defaults with a hint', () => {
    const e = expectInvalidConfig(() => resolveEngineConfig({ topicDefaults: { 'retention.ms': 5 } as never }))
    expect(e.message).toBe('Invalid value 5 for topicDefaults.retention.ms: unknown topic config key; did you mean retentionMs?')
  })

  it('can serve as the base of a topic config', () => {
    const engine = resolveEngineConfig({ topicDefaults: { retentionMs: 1000 } })
    expect(resolveTopicConfig({ segmentMs: 10 }, engine.topicDefaults)).toMatchObject({ retentionMs: 1000, segmentMs: 10 })
  })
})

describe('engine config > relations', () => {
  it('requires groupMinSessionTimeoutMs <= groupMaxSessionTimeoutMs', () => {
    const e = expectInvalidConfig(() => resolveEngineConfig({ groupMinSessionTimeoutMs: 10_000, groupMaxSessionTimeoutMs: 5000 }))
    expect(e.message).toBe('Invalid value 10000 for groupMinSessionTimeoutMs: must not exceed groupMaxSessionTimeoutMs (5000)')
  })

  it('suggests offsetsRetentionMs for Kafka’s offsets.retention.minutes', () => {
    expect(expectInvalidConfig(() => resolveEngineConfig({ 'offsets.retention.minutes': 1 } as never)).message).toMatch(/did you mean offsetsRetentionMs\?$/)
  })
})

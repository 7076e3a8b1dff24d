/**
 * Consumer config: every key's default (Kafka's, with the two documented deviations), a valid value and
 * out-of-range values, and the relations Kafka enforces (heartbeat below session timeout, auto-commit and
 * static membership need a group).
 */
import { describe, expect, it } from 'vitest'
import { CONSUMER_CONFIG, resolveConsumerConfig } from '../../src/config/consumer-config'
import { describeKeyCases, expectInvalidConfig, type KeyCase } from './key-cases'

const INT = '2147483647'

const CASES: KeyCase[] = [
  { key: 'groupId', default: null, valid: [['orders-service'], [null]], invalid: ['', 5], allowed: 'null or a non-empty string' },
  { key: 'groupInstanceId', default: null, valid: [['instance-1'], [null]], invalid: ['', false], allowed: 'null or a non-empty string' },
  { key: 'clientId', default: '', valid: [['c-1']], invalid: [null], allowed: 'a string' },
  { key: 'autoOffsetReset', default: 'latest', valid: [['earliest'], ['none']], invalid: ['smallest', 'by_duration:PT1H'], allowed: 'one of "earliest", "latest", "none"' },
  { key: 'enableAutoCommit', default: false, valid: [[true]], invalid: [1], allowed: 'true or false' },
  { key: 'autoCommitIntervalMs', default: 5000, valid: [[0], [100]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'maxPollRecords', default: 500, valid: [[1], [10_000]], invalid: [0, -5], allowed: `[1, ${INT}]` },
  { key: 'maxPollIntervalMs', default: 300_000, valid: [[1]], invalid: [0], allowed: `[1, ${INT}]` },
  { key: 'sessionTimeoutMs', default: 45_000, valid: [[10_000]], invalid: [0, 2 ** 31], allowed: `[1, ${INT}]` },
  { key: 'heartbeatIntervalMs', default: 3000, valid: [[1], [44_999]], invalid: [0], allowed: `[1, ${INT}]` },
  { key: 'fetchMaxBytes', default: 52_428_800, valid: [[0], [1024]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'maxPartitionFetchBytes', default: 1_048_576, valid: [[0]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'fetchMaxWaitMs', default: 500, valid: [[0]], invalid: [-1], allowed: `[0, ${INT}]` },
  { key: 'fetchMinBytes', default: 1, valid: [[0], [1024]], invalid: [-1], allowed: `[0, ${INT}]` },
  {
    key: 'isolationLevel',
    default: 'read_uncommitted',
    valid: [['read_committed']],
    invalid: ['READ_COMMITTED', 'serializable'],
    allowed: 'one of "read_uncommitted", "read_committed"',
  },
  {
    key: 'partitionAssignmentStrategy',
    default: ['cooperative-sticky'],
    valid: [[['range', 'cooperative-sticky']], ['roundrobin', ['roundrobin']], [['sticky']]],
    invalid: [[], ['range', 'range'], ['RangeAssignor'], 'cooperative_sticky', 7],
    allowed: 'a non-empty list, without repeats, of "range", "roundrobin", "sticky", "cooperative-sticky"',
  },
]

describeKeyCases(CONSUMER_CONFIG, (input) => resolveConsumerConfig(input), CASES, (key) =>
  key === 'enableAutoCommit' || key === 'groupInstanceId' ? { groupId: 'g' } : {},
)

describe('consumer config > relations', () => {
  it('requires heartbeatIntervalMs < sessionTimeoutMs, naming both', () => {
    const e = expectInvalidConfig(() => resolveConsumerConfig({ heartbeatIntervalMs: 10_000, sessionTimeoutMs: 10_000 }))
    expect(e.message).toBe('Invalid value 10000 for heartbeatIntervalMs: must be lower than sessionTimeoutMs (10000)')
    expectInvalidConfig(() => resolveConsumerConfig({ sessionTimeoutMs: 2000 }))
  })

  it('requires a groupId for auto-commit, as Kafka does', () => {
    const e = expectInvalidConfig(() => resolveConsumerConfig({ enableAutoCommit: true }))
    expect(e.message).toBe('Invalid value true for enableAutoCommit: requires a groupId, but groupId is null')
    expect(resolveConsumerConfig({ enableAutoCommit: true, groupId: 'g' }).enableAutoCommit).toBe(true)
  })

  it('requires a groupId for a groupInstanceId', () => {
    expect(expectInvalidConfig(() => resolveConsumerConfig({ groupInstanceId: 'i-1' })).message).toMatch(/groupInstanceId: requires a groupId/)
  })
})

describe('consumer config > resolve', () => {
  it('returns a frozen object whose strategy list is frozen too', () => {
    const config = resolveConsumerConfig({ groupId: 'g', partitionAssignmentStrategy: ['range'] })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.partitionAssignmentStrategy)).toBe(true)
  })

  it('differs from Kafka on purpose: no auto-commit, cooperative-sticky only', () => {
    const config = resolveConsumerConfig({})
    expect(config.enableAutoCommit).toBe(false)
    expect(config.partitionAssignmentStrategy).toEqual(['cooperative-sticky'])
    expect(CONSUMER_CONFIG.table.enableAutoCommit.doc).toMatch(/Kafka defaults to true/)
    expect(CONSUMER_CONFIG.table.partitionAssignmentStrategy.doc).toMatch(/Kafka defaults to \["range", "cooperative-sticky"\]/)
  })

  it.each([
    ['group.id', 'groupId'],
    ['enable.auto.commit', 'enableAutoCommit'],
    ['auto.offset.reset', 'autoOffsetReset'],
    ['max.poll.records', 'maxPollRecords'],
    ['partition.assignment.strategy', 'partitionAssignmentStrategy'],
  ])('rejects the Kafka name %s and suggests %s', (kafkaName, key) => {
    expect(expectInvalidConfig(() => resolveConsumerConfig({ [kafkaName]: 1 } as never)).message).toMatch(new RegExp(`did you mean ${key}\\?$`))
  })
})

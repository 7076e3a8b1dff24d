/**
 * The public surface, pinned: the runtime names src/index.ts exports, and the types users build on.
 * A change here is a change to the published API and should be deliberate.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as kafkalite from '../../src/index'
import type {
  AppendResult,
  CreateTopicOptions,
  ErrorCode,
  KafkaliteOptions,
  OpenReport,
  Record,
  RecordInput,
  TopicConfig,
  TopicConfigInput,
  TopicDescription,
} from '../../src/index'

describe('public exports', () => {
  it('exports exactly these runtime names', () => {
    expect(Object.keys(kafkalite).sort()).toEqual(
      [
        'ClosedError',
        'Consumer',
        'ConsumerGroup',
        'CorruptRecordError',
        'DEFAULT_READ_MAX_BYTES',
        'GroupConsumer',
        'InvalidArgumentError',
        'InvalidConfigError',
        'IoError',
        'Kafkalite',
        'KafkaliteError',
        'LockedError',
        'ManualClock',
        'MemoryFileSystem',
        'OffsetOutOfRangeError',
        'Partition',
        'Producer',
        'RecordTooLargeError',
        'SystemClock',
        'Topic',
        'decodeRecords',
        'encodeRecordBatch',
        'forEachBatch',
        'isKafkaliteError',
        'readBatchHeader',
      ].sort(),
    )
  })

  it('every error class is a KafkaliteError with a stable code', () => {
    const errors = [
      new kafkalite.ClosedError('x'),
      new kafkalite.CorruptRecordError('x'),
      new kafkalite.InvalidArgumentError('x'),
      new kafkalite.InvalidConfigError('k', 1, 'y'),
      new kafkalite.IoError('open', '/p', 'EIO'),
      new kafkalite.LockedError('/d', 'pid 1'),
      new kafkalite.OffsetOutOfRangeError('x'),
      new kafkalite.RecordTooLargeError('x'),
    ]
    for (const e of errors) {
      expect(e).toBeInstanceOf(kafkalite.KafkaliteError)
      expect(kafkalite.isKafkaliteError(e)).toBe(true)
      expect(e.code).toMatch(/^ERR_[A-Z_]+$/)
    }
  })

  it('types: open options, topic options and results have the documented shapes', () => {
    expectTypeOf<KafkaliteOptions>().toMatchTypeOf<{ dir: string } | { inMemory: true }>()
    expectTypeOf({ inMemory: true as const }).toMatchTypeOf<KafkaliteOptions>()
    expectTypeOf({ dir: '/data', numPartitions: 3 }).toMatchTypeOf<KafkaliteOptions>()
    expectTypeOf({ partitions: 3, retentionMs: 1000, cleanupPolicy: 'compact' as const }).toMatchTypeOf<CreateTopicOptions>()
    expectTypeOf<CreateTopicOptions>().toMatchTypeOf<TopicConfigInput>()
    // @ts-expect-error open is static: an instance has no `open`
    expectTypeOf<kafkalite.Kafkalite['open']>()
    expectTypeOf(kafkalite.Kafkalite.open).returns.resolves.toEqualTypeOf<kafkalite.Kafkalite>()
    expectTypeOf<kafkalite.Kafkalite['openReport']>().toEqualTypeOf<OpenReport>()
    expectTypeOf<kafkalite.Kafkalite['describeTopic']>().returns.toEqualTypeOf<TopicDescription>()
    expectTypeOf<TopicDescription['config']>().toEqualTypeOf<Readonly<TopicConfig>>()
    expectTypeOf<kafkalite.Partition['append']>().parameters.toEqualTypeOf<[Buffer]>()
    expectTypeOf<kafkalite.Partition['append']>().returns.toEqualTypeOf<AppendResult>()
    expectTypeOf<kafkalite.Partition['readRecords']>().returns.toHaveProperty('records').toEqualTypeOf<Record[]>()
    expectTypeOf<RecordInput>().toHaveProperty('value').toEqualTypeOf<Buffer | null>()
    expectTypeOf<'ERR_CLOSED'>().toMatchTypeOf<ErrorCode>()
    expectTypeOf<kafkalite.KafkaliteError['code']>().toEqualTypeOf<ErrorCode>()
  })
})

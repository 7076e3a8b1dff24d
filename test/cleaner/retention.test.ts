/**
 * Retention through the CleanerManager: by time, by size, by log start offset (deleteRecords), and the
 * global rules (never the active segment, never at or past the high watermark, oldest first).
 * Deleted segments are renamed `.deleted` and unlinked after fileDeleteDelayMs on the manual clock.
 */
import { describe, expect, it } from 'vitest'
import { isKafkaliteError } from '../../src/errors/index'
import type { SegmentDeletedEvent } from '../../src/cleaner/retention'
import { appendAll, fixture, keyedBatch, readAllChecked, show } from './helpers'

const MINUTE = 60_000

describe('Cleaner > retention', () => {
  it('deletes exactly the closed segments whose largest timestamp is older than retentionMs', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', retentionMs: 10 * MINUTE })
    const t0 = f.clock.now()
    // Five segments with records 0, 2, 4, 6, 8 minutes old (relative to t0 + 8 min), one per segment.
    appendAll(f.log, [0, 2, 4, 6, 8].map((m) => keyedBatch([{ key: `k${m}`, value: 'v', timestamp: t0 + m * MINUTE }], f.clock)))
    f.log.roll()
    f.clock.set(t0 + 8 * MINUTE + 10 * MINUTE + 1) // k0 is 18 min old, k2 16, k4 14, k6 12, k8 10 min + 1 ms
    const events: SegmentDeletedEvent[] = []
    f.cleaner.onSegmentDeleted((e) => events.push(e))

    const report = await f.cleaner.runOnce()

    expect(report.deleted.map((e) => e.baseOffset)).toEqual([0, 1, 2, 3, 4])
    expect(events.map((e) => e.reason)).toEqual(['retention-ms', 'retention-ms', 'retention-ms', 'retention-ms', 'retention-ms'])
    expect(f.log.logStartOffset).toBe(5)

    const g = await fixture({ cleanupPolicy: 'delete', retentionMs: 10 * MINUTE })
    appendAll(g.log, [0, 2, 4, 6, 8].map((m) => keyedBatch([{ key: `k${m}`, value: 'v', timestamp: t0 + m * MINUTE }], g.clock)))
    g.log.roll()
    g.clock.set(t0 + 4 * MINUTE + 10 * MINUTE) // k0, k2 are past 10 min; k4 is exactly 10 min old: kept (strict >)
    expect((await g.cleaner.runOnce()).deleted.map((e) => e.baseOffset)).toEqual([0, 1])
    expect(g.log.segmentList.map((s) => s.baseOffset)).toEqual([2, 3, 4, 5])
    expect(show(readAllChecked(g.log)).map((s) => s.split('=')[0])).toEqual(['k4', 'k6', 'k8'])
  })

  it('keeps the active segment even when it is past retention', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', retentionMs: MINUTE, segmentBytes: 1024 * 1024 })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'b', value: '1' }], f.clock)])
    f.clock.advance(10 * MINUTE)
    const report = await f.cleaner.runOnce()
    expect(report.deleted).toEqual([])
    expect(show(readAllChecked(f.log))).toEqual(['a=1@0', 'b=1@1'])
  })

  it('rolls an active segment idle for segmentMs, so that its old data can expire', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', retentionMs: MINUTE, segmentBytes: 1024 * 1024, segmentMs: 5 * MINUTE })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock)])
    f.clock.advance(4 * MINUTE)
    expect((await f.cleaner.runOnce()).rolled).toBe(0)
    f.clock.advance(2 * MINUTE)
    const report = await f.cleaner.runOnce()
    expect(report.rolled).toBe(1)
    expect(report.deleted.map((e) => [e.baseOffset, e.reason])).toEqual([[0, 'retention-ms']])
    expect(f.log.logStartOffset).toBe(1)
    expect(f.log.segmentCount).toBe(1)
  })

  it('deletes the oldest segments while the partition stays at or above retentionBytes without them', async () => {
    const f = await fixture({ cleanupPolicy: 'delete' })
    appendAll(f.log, Array.from({ length: 5 }, (_, i) => keyedBatch([{ key: `k${i}`, value: 'v' }], f.clock)))
    appendAll(f.log, [keyedBatch([{ key: 'k5', value: 'v' }], f.clock)]) // the active segment, non-empty
    const size = f.log.segmentList[0]!.size
    expect(f.log.segmentList.every((s) => s.size === size)).toBe(true)
    expect(f.log.size).toBe(6 * size)
    // Limit 3.5 segments: 6 → 5 → 4 segments keep the partition ≥ the limit; a third deletion would not.
    f.setConfig({ cleanupPolicy: 'delete', retentionBytes: Math.floor(3.5 * size) })
    const report = await f.cleaner.runOnce()
    expect(report.deleted.map((e) => [e.baseOffset, e.reason, e.bytes])).toEqual([
      [0, 'retention-bytes', size],
      [1, 'retention-bytes', size],
    ])
    expect(f.log.size).toBe(4 * size)
    expect((await f.cleaner.runOnce()).deleted).toEqual([])
  })

  it('never deletes a segment holding offsets at or past the high watermark', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', retentionMs: MINUTE, durability: 'fsync' })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'b', value: '1' }], f.clock)])
    await f.log.flush()
    appendAll(f.log, [keyedBatch([{ key: 'c', value: '1' }], f.clock)]) // not fsynced: above the high watermark
    f.log.roll()
    expect(f.log.highWatermark).toBe(2)
    f.clock.advance(10 * MINUTE)
    const report = await f.cleaner.runOnce()
    expect(report.deleted.map((e) => e.baseOffset)).toEqual([0, 1])
    expect(f.log.segmentList.map((s) => s.baseOffset)).toEqual([2, 3])
  })

  it('renames deleted segments to .deleted and unlinks them after fileDeleteDelayMs', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', retentionMs: MINUTE, fileDeleteDelayMs: 30_000 })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'b', value: '1' }], f.clock)])
    f.clock.advance(2 * MINUTE)
    await f.cleaner.runOnce()
    const names = () => f.fs.readdir('/d/t-0').filter((n) => n.startsWith('00000000000000000000.'))
    expect(names()).toEqual(['00000000000000000000.index.deleted', '00000000000000000000.log.deleted', '00000000000000000000.timeindex.deleted'])
    f.clock.advance(29_999)
    expect(names()).toHaveLength(3)
    f.clock.advance(1)
    expect(names()).toEqual([])
  })

  it('deleteRecords moves the log start offset, makes reads below it fail, and deletes the segments wholly below it', async () => {
    const f = await fixture({ cleanupPolicy: 'delete', fileDeleteDelayMs: 0 })
    appendAll(f.log, Array.from({ length: 4 }, (_, i) => keyedBatch([{ key: `k${i}`, value: 'v' }, { key: `k${i}b`, value: 'v' }], f.clock)))
    const events: SegmentDeletedEvent[] = []
    f.cleaner.onSegmentDeleted((e) => events.push(e))
    expect(await f.cleaner.deleteRecords(f.log, 3)).toEqual({ lowWatermark: 3 })
    expect(f.log.logStartOffset).toBe(3)
    expect(() => f.log.read(2, 100)).toThrow(expect.objectContaining({ code: 'ERR_OFFSET_OUT_OF_RANGE' }))
    expect(show(readAllChecked(f.log))[0]).toBe('k1b=v@3')
    expect(events.map((e) => [e.baseOffset, e.reason])).toEqual([[0, 'log-start-offset']])
    expect(f.log.segmentList[0]!.baseOffset).toBe(2)
    expect(f.fs.readdir('/d/t-0').some((n) => n.startsWith('00000000000000000000.'))).toBe(false)
  })

  it('deleteRecords refuses an offset past the high watermark with ERR_OFFSET_OUT_OF_RANGE, and takes -1 as the high watermark', async () => {
    const f = await fixture({ cleanupPolicy: 'delete' })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'b', value: '1' }], f.clock)])
    const error = await f.cleaner.deleteRecords(f.log, 3).catch((e: unknown) => e)
    expect(isKafkaliteError(error, 'ERR_OFFSET_OUT_OF_RANGE')).toBe(true)
    expect(f.log.logStartOffset).toBe(0)
    expect(await f.cleaner.deleteRecords(f.log, -1)).toEqual({ lowWatermark: 2 })
    expect(readAllChecked(f.log)).toEqual([])
  })

  it('checkpoints the log start offset through the host before deleteRecords resolves', async () => {
    const f = await fixture({ cleanupPolicy: 'delete' })
    const seen: number[] = []
    f.host.checkpointLogStartOffsets = async () => void seen.push(f.log.logStartOffset)
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'b', value: '1' }], f.clock)])
    await f.cleaner.deleteRecords(f.log, 1)
    expect(seen).toEqual([1])
  })

  it('applies both retention and compaction with cleanupPolicy compact,delete', async () => {
    const f = await fixture({ cleanupPolicy: 'compact,delete', retentionMs: 10 * MINUTE })
    const t0 = f.clock.now()
    const kv = (key: string, value: string, minutes: number) => keyedBatch([{ key, value, timestamp: t0 + minutes * MINUTE }], f.clock)
    appendAll(f.log, [kv('a', '1', 0), kv('b', '1', 1), kv('a', '2', 20), kv('b', '2', 21), kv('a', '3', 22)])
    f.log.roll()
    f.clock.set(t0 + 25 * MINUTE)
    f.setConfig({ segmentBytes: 1024 * 1024 })
    const report = await f.cleaner.runOnce()
    // Retention takes offsets 0 and 1 (over 10 minutes old); compaction then drops a=2.
    expect(report.deleted.map((e) => [e.baseOffset, e.reason])).toEqual([
      [0, 'retention-ms'],
      [1, 'retention-ms'],
    ])
    expect(report.compactions).toHaveLength(1)
    expect(show(readAllChecked(f.log))).toEqual(['b=2@3', 'a=3@4'])
  })
})

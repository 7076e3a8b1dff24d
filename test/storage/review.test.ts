/**
 * Storage-core review: behaviour pinned at the edges the review probed. Invariants checked:
 *   - a truncation that removed whole segments survives a machine crash after a clean close;
 *   - index entries follow Kafka's strict `>` interval rule; a rolled segment's time index ends with
 *     (its max timestamp, last offset of the batch holding it);
 *   - in fsync durability, reads and offsetForTimestamp never pass the high watermark, across segments;
 *   - LogAppendTime records carry the broker time for offsetForTimestamp;
 *   - a corrupt middle segment keeps what precedes the damage and drops (and reports) what follows;
 *   - an append landing during an fsync is acknowledged only by a later round;
 *   - a garbage recovery-point checkpoint is reported and treated as absent, losing nothing.
 */
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { LogDirState } from '../../src/storage/log-dir-state'
import { PartitionLog } from '../../src/storage/partition-log'
import { settle, watch } from '../helpers/async'
import { batchOf, durableMemoryFs, openLog, readAll, testConfig } from '../helpers/storage'

const DIR = '/d/t-0'

describe('review > truncation durability', () => {
  it('truncateTo that removes whole segments is durable once close() returns', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync', segmentBytes: 300 } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`old-${i}`]))
    await log.flush()
    const lastBase = log.activeSegment.baseOffset
    expect(lastBase).toBeGreaterThan(0)
    log.truncateTo(lastBase)
    await log.close()
    const crashed = fs.crash()
    const again = await openLog(crashed, DIR, {
      config: { durability: 'fsync', segmentBytes: 300 },
      recoveryPoint: log.recoveryPoint,
      hadCleanShutdown: true,
    })
    expect(again.logEndOffset).toBe(lastBase)
    again.append(batchOf(['new']))
    await again.flush()
    const values = readAll(again).map((r) => `${r.offset}:${r.value?.toString()}`)
    expect(values[values.length - 1]).toBe(`${lastBase}:new`)
    expect(values.length).toBe(lastBase + 1)
  })
})

describe('review > pinned behaviour', () => {
  it('offset index > with indexIntervalBytes equal to one batch, an entry goes to every second batch (strict >)', async () => {
    const fs = new MemoryFileSystem()
    const size = batchOf(['x']).length
    const log = await openLog(fs, DIR, { config: { durability: 'none', indexIntervalBytes: size } })
    for (let i = 0; i < 5; i++) log.append(batchOf(['x']))
    await log.close()
    const index = fs.readFile(`${DIR}/00000000000000000000.index`)
    expect(index.length).toBe(2 * 8)
    expect([index.readInt32BE(0), index.readInt32BE(4)]).toEqual([2, 2 * size])
    expect([index.readInt32BE(8), index.readInt32BE(12)]).toEqual([4, 4 * size])
  })

  it('time index > a rolled segment ends with (its max timestamp, last offset of the batch holding it), even for an unindexed batch', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    log.append(batchOf(['a'], { timestamp: 1000 }))
    log.append(batchOf(['b', 'c'], { timestamp: 4999 })) // max 5000 at offset 2
    log.append(batchOf(['d'], { timestamp: 2000 }))
    log.roll()
    log.append(batchOf(['e'], { timestamp: 3000 }))
    await log.close()
    const first = fs.readFile(`${DIR}/00000000000000000000.timeindex`)
    expect(first.length).toBe(12)
    expect([Number(first.readBigInt64BE(0)), first.readInt32BE(8)]).toEqual([5000, 2])
    const second = fs.readFile(`${DIR}/00000000000000000004.timeindex`)
    expect([second.length, Number(second.readBigInt64BE(0)), second.readInt32BE(8)]).toEqual([12, 3000, 0])
  })

  it('read > in fsync durability, never returns bytes past the high watermark, also when the unflushed tail is in a newer segment', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync', segmentBytes: 300 } })
    for (let i = 0; i < 2; i++) log.append(batchOf([`v${i}`]))
    await log.flush()
    for (let i = 2; i < 8; i++) log.append(batchOf([`v${i}`])) // rolls; not yet fsynced
    expect(log.segmentCount).toBe(2)
    const { records, highWatermark } = log.read(0, 1 << 20)
    expect(highWatermark).toBe(2)
    const offsets: number[] = []
    for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) offsets.push(Number(records.readBigInt64BE(pos)))
    expect(offsets).toEqual([0, 1])
    expect(log.read(2, 1 << 20).records.length).toBe(0)
    await log.flush()
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'])
  })

  it('offsetForTimestamp > considers only records below the high watermark', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    log.append(batchOf(['a'], { timestamp: 1000 }))
    await log.flush()
    log.append(batchOf(['b'], { timestamp: 2000 })) // not yet fsynced
    expect(log.offsetForTimestamp(1500)).toBeUndefined()
    await log.flush()
    expect(log.offsetForTimestamp(1500)).toEqual({ offset: 1, timestamp: 2000 })
  })

  it('offsetForTimestamp > with LogAppendTime, records carry the broker time', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock(50_000)
    const log = await PartitionLog.open({ fs, clock, dir: DIR, topic: 't', partition: 0, config: testConfig({ durability: 'none', messageTimestampType: 'LogAppendTime' }) })
    log.append(batchOf(['a'], { timestamp: 1 }))
    clock.advance(1000)
    log.append(batchOf(['b'], { timestamp: 1 }))
    expect(log.offsetForTimestamp(50_500)).toEqual({ offset: 1, timestamp: 51_000 })
  })

  it('recovery > a corrupt middle segment (no recovery point) keeps everything before the damage and drops the segments after it, reporting each', async () => {
    const fs = new MemoryFileSystem()
    const config = { durability: 'none' as const, segmentBytes: 300 }
    const log = await openLog(fs, DIR, { config })
    for (let i = 0; i < 12; i++) log.append(batchOf([`v${i}`]))
    await log.close()
    const bases = log.segmentList.map((s) => s.baseOffset)
    expect(bases.length).toBeGreaterThan(2)
    const middle = `${DIR}/${String(bases[1]).padStart(20, '0')}.log`
    const data = Buffer.from(fs.readFile(middle))
    const second = 12 + data.readInt32BE(8) // flip a byte in the segment's second batch
    data[second + 70] = data[second + 70]! ^ 0xff
    const h = fs.open(middle, 'rw')
    h.write(data, 0, data.length, 0)
    h.close()
    const again = await openLog(fs, DIR, { config })
    expect(again.logEndOffset).toBe(bases[1]! + 1)
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: bases[1]! + 1 }, (_, i) => i))
    const report = again.recoveryReport.problems.join('\n')
    for (const b of bases.slice(2)) expect(report).toContain(`segment ${b}: deleted`)
    expect(again.append(batchOf(['next']))).toMatchObject({ baseOffset: bases[1]! + 1 })
  })

  it('flushUpTo > an append that lands during an fsync is acknowledged only by a later round that covers it', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    log.append(batchOf(['a']))
    fs.resetStats()
    const b = log.append(batchOf(['b']))
    const waiter = watch(log.flushUpTo(b.lastOffset))
    const syncsBefore = fs.stats().syncs
    await settle()
    expect(waiter.state).toBe('resolved')
    expect(fs.stats().syncs).toBeGreaterThan(syncsBefore) // a round started after 'b' was written
    expect(log.recoveryPoint).toBe(2)
  })
  it('recovery > a garbage recovery-point checkpoint is reported and treated as absent; every segment is scanned and nothing is lost', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none', segmentBytes: 300 } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`]))
    await log.close()
    const state = new LogDirState(fs, '/d')
    await state.writeCheckpoints([{ topic: 't', partition: 0, recoveryPoint: log.recoveryPoint, logStartOffset: 0, firstSegmentBaseOffset: 0 }])
    await state.markCleanShutdown()
    const h = fs.open('/d/recovery-point-offset-checkpoint', 'rw')
    h.write(Buffer.from('\u0000\u00ffgarbage\n'), 0, 10, 0)
    h.close()
    const reread = new LogDirState(fs, '/d')
    const points = reread.readRecoveryPoints()
    expect(points.size).toBe(0)
    expect(reread.problems.join('\n')).toMatch(/recovery-point-offset-checkpoint is unreadable/)
    const again = await openLog(fs, DIR, { config: { durability: 'none', segmentBytes: 300 }, recoveryPoint: points.get('t-0'), hadCleanShutdown: reread.hadCleanShutdown() })
    expect(again.recoveryReport.segmentsRecovered).toBe(again.segmentCount)
    expect(again.recoveryReport.problems.join('\n')).toMatch(/no recovery point/)
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`))
  })
})

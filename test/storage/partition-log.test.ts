/**
 * The partition log's contract, run against the in-memory and the real file system: offsets are
 * assigned densely from the log end, reads return whole batches starting with the one that holds the
 * offset and never pass the high watermark, segments roll and are named as Kafka names them, and
 * indexes follow Kafka's layout and rule.
 */
import { describe, expect, it } from 'vitest'
import { readBaseOffset } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { PartitionLog } from '../../src/storage/partition-log'
import { FILE_SYSTEMS, batchOf, openLog, readAll, recordsIn, testConfig } from '../helpers/storage'

describe.each(FILE_SYSTEMS)('PartitionLog ($name fs)', ({ make }) => {
  it('append > assigns offsets from the log end offset and returns base and last offset', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    expect(log.append(batchOf(['a', 'b', 'c']))).toMatchObject({ baseOffset: 0, lastOffset: 2, recordCount: 3 })
    expect(log.append(batchOf(['d']))).toMatchObject({ baseOffset: 3, lastOffset: 3 })
    expect(log.logEndOffset).toBe(4)
    expect(readAll(log).map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ])
    await log.close()
  })

  it('read > starts at the batch that contains the offset, as a Kafka fetch does', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    log.append(batchOf(['a', 'b', 'c']))
    log.append(batchOf(['d', 'e']))
    const { records } = log.read(4, 1 << 20)
    expect(readBaseOffset(records, 0)).toBe(3)
    expect(recordsIn(records).map((r) => r.offset)).toEqual([3, 4])
    await log.close()
  })

  it('read > returns at least one whole batch even when it is larger than maxBytes', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    log.append(batchOf(['x'.repeat(1000)]))
    log.append(batchOf(['y']))
    const { records } = log.read(0, 10)
    expect(recordsIn(records).map((r) => r.offset)).toEqual([0])
    await log.close()
  })

  it('read > rejects offsets outside [logStartOffset, logEndOffset] with ERR_OFFSET_OUT_OF_RANGE', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    log.append(batchOf(['a']))
    expect(() => log.read(2, 100)).toThrow(expect.objectContaining({ code: 'ERR_OFFSET_OUT_OF_RANGE', topic: 't', partition: 0, offset: 2 }))
    expect(() => log.read(-1, 100)).toThrow(expect.objectContaining({ code: 'ERR_OFFSET_OUT_OF_RANGE' }))
    expect(log.read(1, 100).records.length).toBe(0)
    await log.close()
  })

  it('fsync durability > readers see nothing past the last fsync; the high watermark follows the flush', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'fsync' } })
    log.append(batchOf(['a', 'b']))
    expect(log.logEndOffset).toBe(2)
    expect(log.highWatermark).toBe(0)
    expect(log.read(0, 1000).records.length).toBe(0)
    await log.flushUpTo(1)
    expect(log.highWatermark).toBe(2)
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'b'])
    await log.close()
  })

  it('segments > roll on segmentBytes and are named by their 20-digit base offset', async () => {
    const { fs, root } = make()
    const dir = `${root}/t-0`
    const log = await openLog(fs, dir, { config: { durability: 'none', segmentBytes: 300 } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`value-${i}`, `value-${i}b`]))
    expect(log.segmentCount).toBeGreaterThan(2)
    const logs = fs.readdir(dir).filter((n) => n.endsWith('.log'))
    expect(logs[0]).toBe('00000000000000000000.log')
    for (const name of logs) expect(name).toMatch(/^\d{20}\.log$/)
    expect(logs.map((n) => Number(n.slice(0, 20)))).toEqual(log.segmentList.map((s) => s.baseOffset))
    expect(readAll(log).length).toBe(20)
    await log.close()
  })

  it("segments > roll when a batch is more than segmentMs newer than the segment's first batch", async () => {
    const { fs, root } = make()
    const clock = new ManualClock()
    const log = await PartitionLog.open({ fs, clock, dir: `${root}/t-0`, topic: 't', partition: 0, config: testConfig({ durability: 'none', segmentMs: 1000 }) })
    // Record time decides, as in Kafka: the incoming batch's timestamp minus the first batch's.
    log.append(batchOf(['a'], { timestamp: clock.now() }))
    clock.advance(1000)
    log.append(batchOf(['b'], { timestamp: clock.now() }))
    expect(log.segmentCount).toBe(1)
    clock.advance(1)
    log.append(batchOf(['c'], { timestamp: clock.now() }))
    expect(log.segmentCount).toBe(2)
    expect(log.activeSegment.baseOffset).toBe(2)
    await log.close()
  })

  it('offset index > holds (last offset of batch, batch position) entries, never for a segment\'s first batch', async () => {
    const { fs, root } = make()
    const dir = `${root}/t-0`
    const log = await openLog(fs, dir, { config: { durability: 'none', indexIntervalBytes: 0 } })
    const positions: number[] = []
    let pos = 0
    for (let i = 0; i < 4; i++) {
      const b = batchOf(['a', 'b'])
      positions.push(pos)
      pos += b.length
      log.append(b)
    }
    await log.close()
    const index = fs.readFile(`${dir}/00000000000000000000.index`)
    // indexIntervalBytes 0: every batch but the first gets an entry (strict '>').
    expect(index.length).toBe(3 * 8)
    for (let e = 0; e < 3; e++) {
      expect(index.readInt32BE(e * 8)).toBe((e + 1) * 2 + 1)
      expect(index.readInt32BE(e * 8 + 4)).toBe(positions[e + 1])
    }
    const timeIndex = fs.readFile(`${dir}/00000000000000000000.timeindex`)
    expect(timeIndex.length % 12).toBe(0)
    // Every batch has the same max timestamp, so the only entry is the first batch reaching it (offset 1):
    // Kafka appends a time-index entry only when the timestamp grows strictly.
    expect(timeIndex.length).toBe(12)
    expect(Number(timeIndex.readBigInt64BE(0))).toBe(1_700_000_000_001)
    expect(timeIndex.readInt32BE(8)).toBe(1)
  })

  it('offsetForTimestamp > returns the first record at or after the timestamp', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none', segmentBytes: 200 } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`], { timestamp: 1000 + i * 10 }))
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 })
    expect(log.offsetForTimestamp(1045)).toEqual({ offset: 5, timestamp: 1050 })
    expect(log.offsetForTimestamp(1090)).toEqual({ offset: 9, timestamp: 1090 })
    expect(log.offsetForTimestamp(1091)).toBeUndefined()
    await log.close()
  })

  it('truncateTo > removes the batch holding the offset and everything after it', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none', segmentBytes: 200 } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`, `w${i}`]))
    log.truncateTo(7)
    expect(log.logEndOffset).toBe(6)
    expect(readAll(log).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5])
    expect(log.append(batchOf(['next']))).toMatchObject({ baseOffset: 6 })
    log.truncateTo(0)
    expect(log.logEndOffset).toBe(0)
    expect(log.segmentCount).toBe(1)
    expect(readAll(log)).toEqual([])
    await log.close()
  })

  it('close > leaves index files holding whole entries only (no zero-filled tails)', async () => {
    const { fs, root } = make()
    const dir = `${root}/t-0`
    const log = await openLog(fs, dir, { config: { durability: 'none', indexIntervalBytes: 100, segmentBytes: 2000 } })
    for (let i = 0; i < 50; i++) log.append(batchOf(['x'.repeat(50)]))
    await log.close()
    for (const name of fs.readdir(dir)) {
      const data = fs.readFile(`${dir}/${name}`)
      if (name.endsWith('.index')) {
        expect(data.length % 8).toBe(0)
        for (let e = 0; e < data.length / 8; e++) expect(e === 0 || data.readInt32BE(e * 8) > 0).toBe(true)
      }
      if (name.endsWith('.timeindex')) expect(data.length % 12).toBe(0)
    }
  })

  it('reopen > after a clean close, the log has the same offsets and content', async () => {
    const { fs, root } = make()
    const dir = `${root}/t-0`
    const log = await openLog(fs, dir, { config: { segmentBytes: 500 } })
    for (let i = 0; i < 20; i++) log.append(batchOf([`v${i}`]))
    await log.close()
    const again = await openLog(fs, dir, { config: { segmentBytes: 500 }, recoveryPoint: log.recoveryPoint, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(again.logEndOffset).toBe(20)
    expect(again.highWatermark).toBe(20)
    expect(again.recoveryReport.problems).toEqual([])
    expect(again.recoveryReport.segmentsRecovered).toBe(0)
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`))
    expect(again.append(batchOf(['more']))).toMatchObject({ baseOffset: 20 })
    await again.close()
  })
})

describe('PartitionLog > group commit', () => {
  it('concurrent flushUpTo calls share fsyncs', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    fs.resetStats()
    const waits: Promise<void>[] = []
    for (let i = 0; i < 100; i++) {
      const { lastOffset } = log.append(batchOf([`v${i}`]))
      waits.push(log.flushUpTo(lastOffset))
    }
    await Promise.all(waits)
    expect(log.recoveryPoint).toBe(100)
    expect(fs.stats().syncs).toBeLessThanOrEqual(3)
    await log.close()
  })

  it('a flush does not publish appends that landed while it was waiting for the disk', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync' } })
    log.append(batchOf(['a']))
    const first = log.flushUpTo(0)
    log.append(batchOf(['b']))
    await first
    expect(log.highWatermark).toBeGreaterThanOrEqual(1)
    await log.flushUpTo(1)
    expect(log.highWatermark).toBe(2)
    await log.close()
  })
})

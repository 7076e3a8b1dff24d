/**
 * Regressions found in review of the storage core, each pinned by the scenario that exposed it:
 * fsync failures (at open and during appends), truncation racing group commit, close racing appends,
 * durability of truncation and of rolled segments' indexes, trust in a clean shutdown's checkpoint,
 * index write failures, throwing listeners, torn writes that could not be cut, max timestamps after
 * truncation and in lying batches, segmentMs across restarts, and error context.
 */
import { describe, expect, it } from 'vitest'
import { crc32c } from '../../src/codec/crc32c'
import { encodeRecordBatch, validateBatch } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { PartitionLog, type AppendResult } from '../../src/storage/partition-log'
import { settle, watch } from '../helpers/async'
import { batchOf, durableMemoryFs, openLog, readAll, testConfig } from '../helpers/storage'

const DIR = '/d/t-0'

describe('storage review > fsync failures', () => {
  it('a failed fsync while opening after a crash does not delete records that were already durable', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    for (let i = 0; i < 5; i++) log.append(batchOf([`v${i}`]))
    await log.flush()
    const crashed = fs.processCrash()
    crashed.injectFault({ op: 'sync', pathIncludes: '.log', errno: 'EIO', times: 1 })
    await expect(openLog(crashed, DIR, { config: { durability: 'fsync' } })).rejects.toMatchObject({ code: 'ERR_IO' })
    const again = await openLog(crashed, DIR, { config: { durability: 'fsync' } })
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2', 'v3', 'v4'])
  })

  it('a record cut after a failed fsync is never acknowledged by a later flushUpTo of its offset', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    log.append(batchOf(['a']))
    await log.flushUpTo(0)
    fs.injectFault({ op: 'sync', pathIncludes: '.log', errno: 'EIO', times: 1 })
    const b = log.append(batchOf(['b']))
    const c = log.append(batchOf(['c']))
    await expect(log.flushUpTo(b.lastOffset)).rejects.toMatchObject({ code: 'ERR_IO', topic: 't', partition: 0 })
    const cAck = watch(log.flushUpTo(c.lastOffset))
    log.append(batchOf(['d']))
    const e = log.append(batchOf(['e']))
    await log.flushUpTo(e.lastOffset)
    await settle()
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'd', 'e'])
    expect(cAck.state).toBe('rejected')
  })
})

describe('storage review > truncation', () => {
  it('truncateTo during an in-flight fsync never leaves the high watermark past the log end, nor serves unfsynced appends', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    fs.resetStats()
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`]))
    while (fs.stats().syncs < 2) await Promise.resolve()
    expect(log.recoveryPoint).toBe(1)
    const waiter = watch(log.flushUpTo(9))
    log.truncateTo(5)
    await settle()
    expect(log.highWatermark).toBeLessThanOrEqual(log.logEndOffset)
    log.append(batchOf(['not-yet-fsynced']))
    expect(log.read(5, 1 << 20).records.length).toBe(0)
    expect(waiter.state).toBe('rejected')
  })

  it('truncateTo is durable once close() returns: a machine crash after a clean close does not bring cut records back', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`old-${i}`]))
    await log.flush()
    log.truncateTo(5)
    await log.close()
    const crashed = fs.crash()
    const again = await openLog(crashed, DIR, { config: { durability: 'fsync' }, recoveryPoint: log.recoveryPoint, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    again.append(batchOf(['new-5']))
    await again.flush()
    expect(readAll(again).map((r) => `${r.offset}:${r.value?.toString()}`)).toEqual(['0:old-0', '1:old-1', '2:old-2', '3:old-3', '4:old-4', '5:new-5'])
  })

  it('truncateTo never raises the high watermark over unfsynced records (mark left on the previous segment by a roll)', async () => {
    const fs = await durableMemoryFs()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync', segmentBytes: 300 } })
    for (let i = 0; i < 4; i++) log.append(batchOf([`v${i}`]))
    await log.flush()
    expect(log.highWatermark).toBe(4)
    for (let i = 4; i < 8; i++) log.append(batchOf([`v${i}`]))
    expect(log.activeSegment.baseOffset).toBe(4)
    log.truncateTo(6)
    expect(log.highWatermark).toBe(4)
    expect(log.read(4, 1 << 20).records.length).toBe(0)
    await log.close()
  })

  it('after truncateTo, a segment still knows its largest timestamp (offsetForTimestamp finds records past the last time-index entry)', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    log.append(batchOf(['a'], { timestamp: 1000 }))
    log.append(batchOf(['b'], { timestamp: 5000 }))
    log.append(batchOf(['c'], { timestamp: 2000 }))
    log.truncateTo(2)
    log.append(batchOf(['d'], { timestamp: 1500 }))
    log.roll()
    log.append(batchOf(['e'], { timestamp: 3000 }))
    expect(log.offsetForTimestamp(4000)).toEqual({ offset: 1, timestamp: 5000 })
  })
})

describe('storage review > close', () => {
  it('an append that lands while close() is in progress is refused with ERR_CLOSED, and close leaves nothing unflushed', async () => {
    for (const durability of ['none', 'fsync'] as const) {
      for (let depth = 0; depth < 20; depth++) {
        const fs = new MemoryFileSystem()
        const log = await openLog(fs, DIR, { config: { durability } })
        log.append(batchOf(['a']))
        const closing = log.close()
        let late: AppendResult | undefined
        let refused: unknown
        const lateAppend = (async () => {
          for (let i = 0; i < depth; i++) await Promise.resolve()
          try {
            late = log.append(batchOf(['late']))
          } catch (e) {
            refused = e
          }
        })()
        await closing
        await lateAppend
        expect(late).toBeUndefined()
        expect(refused).toMatchObject({ code: 'ERR_CLOSED', topic: 't', partition: 0 })
        expect(log.recoveryPoint).toBe(log.logEndOffset)
      }
    }
  })

  it('a torn write whose cut also failed is not left between batches: later appends stay readable after a reopen', async () => {
    const fs = new MemoryFileSystem()
    const config = { durability: 'fsync' as const }
    const log = await openLog(fs, DIR, { config })
    log.append(batchOf(['a']))
    await log.flush()
    fs.injectFault({ op: 'write', pathIncludes: '.log', errno: 'EIO', shortWrite: 200, times: 1 })
    fs.injectFault({ op: 'truncate', pathIncludes: '.log', errno: 'EIO', times: 1 })
    expect(() => log.append(batchOf(['x'.repeat(500)]))).toThrow(expect.objectContaining({ code: 'ERR_IO' }))
    const b = log.append(batchOf(['b']))
    await log.flushUpTo(b.lastOffset)
    await log.close()
    const again = await openLog(fs, DIR, { config, recoveryPoint: log.recoveryPoint, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    const c = again.append(batchOf(['c']))
    await again.flushUpTo(c.lastOffset)
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(['a', 'b', 'c'])
  })
})

describe('storage review > clean shutdown trust', () => {
  it.each([
    ['with', true],
    ['without', false],
  ])('a .log cut short after a clean shutdown is detected (%s the recorded clean-shutdown state): the torn batch is neither counted nor served', async (_, withState) => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`]))
    await log.close()
    const path = `${DIR}/00000000000000000000.log`
    const data = fs.readFile(path)
    const h = fs.open(path, 'rw')
    h.truncate(data.length - 5)
    h.close()
    const state = withState ? log.cleanShutdownState : undefined
    const again = await openLog(fs, DIR, { config: { durability: 'none' }, recoveryPoint: 10, hadCleanShutdown: true, cleanShutdownState: state })
    expect(again.logEndOffset).toBe(9)
    expect(again.recoveryReport.problems.join('\n')).toMatch(/recovering it/)
    again.append(batchOf(['after']))
    const { records } = again.read(0, 1 << 20)
    for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) validateBatch(records, pos)
    expect(readAll(again).map((r) => r.value?.toString())).toEqual([...Array.from({ length: 9 }, (_, i) => `v${i}`), 'after'])
  })

  it.each([3, 7])('a checkpointed recovery point damaged to %i (still parseable) does not move the log end offset of a cleanly closed log', async (damaged) => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    for (let i = 0; i < 5; i++) log.append(batchOf([`v${i}`]))
    await log.close()
    for (const state of [log.cleanShutdownState, undefined]) {
      const again = await openLog(fs, DIR, { config: { durability: 'none' }, recoveryPoint: damaged, hadCleanShutdown: true, cleanShutdownState: state })
      expect(again.logEndOffset).toBe(5)
      expect(again.append(batchOf(['next']))).toMatchObject({ baseOffset: 5 })
      again.truncateTo(5)
      await again.close()
    }
  })
})

describe('storage review > indexes', () => {
  it('offsetForTimestamp is right after a machine crash for segments below the recovery point', async () => {
    const fs = await durableMemoryFs()
    const config = { durability: 'fsync' as const, segmentBytes: 300 }
    const log = await openLog(fs, DIR, { config })
    for (let i = 0; i < 12; i++) log.append(batchOf([`v${i}`], { timestamp: 1000 + i * 10 }))
    await log.flush()
    expect(log.segmentCount).toBeGreaterThan(2)
    const crashed = fs.crash()
    const again = await openLog(crashed, DIR, { config, recoveryPoint: log.recoveryPoint })
    expect(again.logEndOffset).toBe(12)
    expect(again.offsetForTimestamp(1000)).toEqual({ offset: 0, timestamp: 1000 })
    expect(again.offsetForTimestamp(1015)).toEqual({ offset: 2, timestamp: 1020 })
  })

  it('a deleted .timeindex of a closed segment is reported and rebuilt (offsetForTimestamp still finds its records)', async () => {
    const fs = new MemoryFileSystem()
    const config = { durability: 'none' as const, segmentBytes: 300 }
    const log = await openLog(fs, DIR, { config })
    for (let i = 0; i < 12; i++) log.append(batchOf([`v${i}`], { timestamp: 1000 + i * 10 }))
    await log.close()
    fs.unlink(`${DIR}/00000000000000000000.timeindex`)
    const again = await openLog(fs, DIR, { config, recoveryPoint: 12, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(again.offsetForTimestamp(1000)).toEqual({ offset: 0, timestamp: 1000 })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/timeindex/)
  })

  it('a zero-filled tail on the .timeindex of a closed segment is detected before its largest timestamp is trusted', async () => {
    const fs = new MemoryFileSystem()
    const config = { durability: 'none' as const, segmentBytes: 300 }
    const log = await openLog(fs, DIR, { config })
    for (let i = 0; i < 12; i++) log.append(batchOf([`v${i}`], { timestamp: 1000 + i * 10 }))
    await log.close()
    const path = `${DIR}/00000000000000000000.timeindex`
    const h = fs.open(path, 'rw')
    h.write(Buffer.alloc(12), 0, 12, h.size())
    h.close()
    const again = await openLog(fs, DIR, { config, recoveryPoint: 12, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(again.offsetForTimestamp(1000)).toEqual({ offset: 0, timestamp: 1000 })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/segment 0/)
  })

  it('ENOSPC on the time index during append is typed, and the log is appendable once it clears', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none', indexIntervalBytes: 0 } })
    log.append(batchOf(['a']))
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.timeindex', errno: 'ENOSPC', times: 1 })
    expect(() => log.append(batchOf(['b'], { timestamp: 1_800_000_000_000 }))).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE', topic: 't', partition: 0 }))
    clear()
    expect(log.append(batchOf(['b'], { timestamp: 1_800_000_000_000 }))).toMatchObject({ baseOffset: 1 })
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'b'])
  })
})

describe('storage review > robustness', () => {
  it('a throwing high-watermark listener does not wedge group commit', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    let calls = 0
    log.onHighWatermark(() => {
      calls++
      if (calls === 1) throw new Error('a consumer callback bug')
    })
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    const a = log.append(batchOf(['a']))
    const first = watch(log.flushUpTo(a.lastOffset))
    await settle()
    const b = log.append(batchOf(['b']))
    const second = watch(log.flushUpTo(b.lastOffset))
    await settle()
    process.off('warning', onWarning)
    expect(first.state).toBe('resolved')
    expect(second.state).toBe('resolved')
    expect(log.highWatermark).toBe(2)
    expect(warnings.join('\n')).toMatch(/listener .* threw/)
  })

  it('a CreateTime batch whose header maxTimestamp understates its records is refused under deep validation', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    const batch = encodeRecordBatch({
      records: [
        { key: null, value: Buffer.from('early'), timestamp: 1000 },
        { key: null, value: Buffer.from('late'), timestamp: 9000 },
      ],
    })
    batch.writeBigInt64BE(1000n, 35)
    batch.writeUInt32BE(crc32c(batch.subarray(21)), 17)
    expect(() => log.append(batch)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_RECORD' }))
    expect(log.logEndOffset).toBe(0)
  })

  it('segmentMs counts from the first batch also after a restart, so an idle segment still rolls after reopen', async () => {
    const fs = new MemoryFileSystem()
    const clock = new ManualClock()
    const config = testConfig({ durability: 'none', segmentMs: 1000 })
    const log = await PartitionLog.open({ fs, clock, dir: DIR, topic: 't', partition: 0, config })
    log.append(batchOf(['a'], { timestamp: clock.now() }))
    await log.close()
    clock.advance(5000)
    const again = await PartitionLog.open({ fs, clock, dir: DIR, topic: 't', partition: 0, config, recoveryPoint: 1, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(again.maybeRollIdle()).toBe(true)
    expect(again.segmentCount).toBe(2)
  })

  it('an I/O error during append and ERR_CLOSED name the topic and partition', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    fs.injectFault({ op: 'write', pathIncludes: '.log', errno: 'ENOSPC', times: 1 })
    expect(() => log.append(batchOf(['a']))).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE', topic: 't', partition: 0 }))
    await log.close()
    expect(() => log.append(batchOf(['a']))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED', topic: 't', partition: 0 }))
  })
})

describe('storage review > reads', () => {
  it('an empty closed segment below the high watermark is skipped, not taken for the end of the log', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'none' } })
    log.append(batchOf(['a']))
    log.roll()
    log.append(batchOf(['b']))
    log.roll()
    log.append(batchOf(['c']))
    // Replace the middle segment with an empty one covering the same offsets (what compaction may leave).
    const middle = log.segmentList[1]!
    const empty = log.createCleanedSegment(middle.baseOffset)
    empty.changeFileSuffixes('.cleaned', '')
    log.replaceSegments([middle], [empty])
    expect(log.read(1, 1 << 20).records.length).toBeGreaterThan(0)
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'c'])
  })
})

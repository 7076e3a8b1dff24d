/**
 * Index entries of the active segment stay in memory and reach their files in bulk (sparse-index.ts):
 * at roll, at close, before an fsync or rename, never one write per entry. Lookups see pending entries
 * at once, and a crash that loses them leaves a log that recovers with correct indexes.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, FILE_SYSTEMS, openLog, recordsIn } from '../helpers/storage'

const VALUE = 'v'.repeat(1000)

/** Appends `n` batches of 4 records of ~1 KB (each batch passes the 4096-byte index interval). */
function appendBatches(log: Awaited<ReturnType<typeof openLog>>, n: number): void {
  for (let i = 0; i < n; i++) log.append(batchOf([VALUE, VALUE, VALUE, VALUE]), { deepValidation: false })
}

describe.each(FILE_SYSTEMS)('index writes ($name)', ({ make }) => {
  it('entries of the active segment are served from memory before any of them is written to the file', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    appendBatches(log, 20)
    const active = log.activeSegment
    expect(active.offsetIndex.entries).toBeGreaterThan(5)
    expect(fs.stat(active.offsetIndex.file.path).size).toBe(0)
    // A read from the middle starts at an indexed position and still returns the batch holding the offset.
    const got = recordsIn(log.read(41, 4096).records)
    expect(got[0]!.offset).toBe(40)
    expect(active.offsetIndex.lookup(41).position).toBeGreaterThan(0)
    await log.close()
  })

  it('close writes every pending entry, so the files equal the in-memory indexes', async () => {
    const { fs, root } = make()
    const dir = `${root}/t-0`
    const log = await openLog(fs, dir, { config: { durability: 'none' } })
    appendBatches(log, 20)
    const { offsetIndex, timeIndex } = log.activeSegment
    const offsetEntries = offsetIndex.entries
    const timeEntries = timeIndex.entries
    await log.close()
    expect(fs.stat(offsetIndex.file.path).size).toBe(offsetEntries * 8)
    expect(fs.stat(timeIndex.file.path).size).toBe(timeEntries * 12)
    const reopened = await openLog(fs, dir, { config: { durability: 'none' } })
    expect(reopened.activeSegment.offsetIndex.entries).toBe(offsetEntries)
    expect(recordsIn(reopened.read(41, 4096).records)[0]!.offset).toBe(40)
    await reopened.close()
  })

  it('a roll writes the rolled segment\'s entries in full, its final time-index entry included', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none', segmentBytes: 40_000 } })
    appendBatches(log, 20)
    expect(log.segmentList.length).toBeGreaterThan(1)
    const rolled = log.segmentList[0]!
    expect(fs.stat(rolled.offsetIndex.file.path).size).toBe(rolled.offsetIndex.entries * 8)
    expect(fs.stat(rolled.timeIndex.file.path).size).toBe(rolled.timeIndex.entries * 12)
    expect(rolled.offsetIndex.entries).toBeGreaterThan(0)
    await log.close()
  })

  it('a truncation below the written entries cuts the file; above them it only drops pending entries', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    appendBatches(log, 20)
    const file = log.activeSegment.offsetIndex.file
    log.truncateTo(60)
    expect(fs.stat(file.path).size).toBe(0)
    file.writePending()
    const written = log.activeSegment.offsetIndex.entries
    expect(fs.stat(file.path).size).toBe(written * 8)
    log.truncateTo(20)
    expect(log.activeSegment.offsetIndex.entries).toBeLessThan(written)
    expect(fs.stat(file.path).size).toBe(log.activeSegment.offsetIndex.entries * 8)
    expect(recordsIn(log.read(0, 1 << 20).records).map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await log.close()
  })
})

describe('index writes > crash', () => {
  it('a process crash that loses the pending entries recovers a log whose reads and indexes are correct', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/data/t-0', { config: { durability: 'fsync' } })
    appendBatches(log, 20)
    await log.flush()
    const expected = recordsIn(log.read(0, 1 << 20).records).map((r) => r.offset)
    const entries = log.activeSegment.offsetIndex.entries
    const crashed = fs.processCrash()
    const reopened = await openLog(crashed, '/data/t-0', { config: { durability: 'fsync' } })
    expect(reopened.logEndOffset).toBe(80)
    expect(reopened.activeSegment.offsetIndex.entries).toBe(entries)
    expect(recordsIn(reopened.read(0, 1 << 20).records).map((r) => r.offset)).toEqual(expected)
    for (const offset of [5, 41, 77]) expect(recordsIn(reopened.read(offset, 100).records)[0]!.offset).toBe(offset - (offset % 4))
    await reopened.close()
  })
})

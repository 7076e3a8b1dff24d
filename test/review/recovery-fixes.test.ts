/**
 * Recovery bugs the index model (index-model.test.ts) found; they predate the bulk index writes.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, openLog, readAll } from '../helpers/storage'

const VALUE = 'v'.repeat(1000)

async function durableFs(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem()
  fs.mkdirp('/d')
  await fs.syncDir('/')
  return fs
}

describe('review: recovery', () => {
  it('recovering an empty active segment adds no time-index entry, so a truncation and a roll in it later still work', async () => {
    const fs = await durableFs()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    log.append(batchOf(['a', 'b']))
    log.roll()
    // A process crash with the new segment still empty (an idle roll, say): recovery scans it.
    const again = await openLog(fs.processCrash(), '/d/t-0', { config: { durability: 'none' } })
    expect(again.activeSegment.size).toBe(0)
    expect(again.activeSegment.timeIndex.entries).toBe(0)
    for (let i = 0; i < 4; i++) again.append(batchOf([VALUE, VALUE, VALUE, VALUE], { timestamp: 1_700_000_001_000 + 10 * i }))
    // Below the segment's first real time-index entry: only a bogus first entry would be left.
    again.truncateTo(6)
    again.append(batchOf(['c'], { timestamp: 1_700_000_002_000 }))
    // The roll reads the time index's last entry (it was ERR_CORRUPT_RECORD, failing the append that rolled).
    expect(() => again.roll()).not.toThrow()
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: 7 }, (_, i) => i))
    expect(again.offsetForTimestamp(1_700_000_001_010)?.offset).toBe(6)
    await again.close()
  })

  it('after a process crash, open makes the names of segments rolled since the last directory fsync durable: a flush then survives a machine crash', async () => {
    const fs = await durableFs()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync', segmentBytes: 5000 } })
    for (let i = 0; i < 6; i++) log.append(batchOf([VALUE, VALUE]))
    expect(log.segmentList.length).toBeGreaterThan(2)
    // The process dies before any flush: data and new names are in the page cache only.
    const survivor = fs.processCrash()
    const reopened = await openLog(survivor, '/d/t-0', { config: { durability: 'fsync', segmentBytes: 5000 } })
    expect(reopened.logEndOffset).toBe(12)
    await reopened.flush()
    const afterMachineCrash = await openLog(survivor.crash(), '/d/t-0', { config: { durability: 'fsync', segmentBytes: 5000 } })
    expect(afterMachineCrash.logEndOffset).toBe(12)
    expect(readAll(afterMachineCrash).map((r) => r.offset)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    await afterMachineCrash.close()
  })
})

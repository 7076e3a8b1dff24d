/**
 * Deleting a segment's files must not depend on writing its pending index entries (sparse-index.ts):
 * close writes them, and on a full disk that write fails, which stopped a truncation halfway (the
 * segment gone from the log, the log end unchanged, the next append at an offset past a gap) and left a
 * failed compaction's `.cleaned` files behind.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, openLog, readAll } from '../helpers/storage'
import { fixture, keyedBatch } from '../cleaner/helpers'

const VALUE = 'v'.repeat(1000)

describe('review: deleting segment files with pending index entries', () => {
  it('a truncation that deletes the active segment works while index writes fail', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none', segmentBytes: 40_000 } })
    for (let i = 0; i < 25; i++) log.append(batchOf([VALUE, VALUE, VALUE, VALUE]), { deepValidation: false })
    expect(log.segmentList.length).toBe(3)
    expect(log.activeSegment.offsetIndex.entries).toBeGreaterThan(0)
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.index', errno: 'ENOSPC' })
    log.truncateTo(20)
    clear()
    expect(log.logEndOffset).toBe(20)
    expect(log.append(batchOf(['x']), { deepValidation: false }).baseOffset).toBe(20)
    expect(readAll(log).map((r) => r.offset)).toEqual(Array.from({ length: 21 }, (_, i) => i))
    await log.close()
    const again = await openLog(fs, '/d/t-0', { config: { durability: 'none', segmentBytes: 40_000 } })
    expect(again.recoveryReport.problems).toEqual([])
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: 21 }, (_, i) => i))
    await again.close()
  })

  it('a compaction round that fails on a full disk removes its .cleaned files', async () => {
    const f = await fixture({ segmentBytes: 64 * 1024, indexIntervalBytes: 100 })
    for (let v = 0; v < 3; v++) {
      for (let i = 0; i < 20; i++) f.log.append(keyedBatch(Array.from({ length: 5 }, (_, j) => ({ key: `k${i}.${j}`, value: `${v}`.repeat(50) })), f.clock))
    }
    f.log.roll()
    const clear = f.fs.injectFault({ op: 'write', pathIncludes: '.index.cleaned', errno: 'ENOSPC' })
    const report = await f.cleaner.runOnce()
    clear()
    expect(report.errors.map((e) => (e.error as { code?: string }).code)).toEqual(['ERR_NO_SPACE'])
    expect(f.fs.readdir('/d/t-0').filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([])
  })
})

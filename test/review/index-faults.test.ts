/**
 * Review probe: index entries now reach their files in bulk (at roll, close, fsync, rename), so an
 * index write failure surfaces there instead of in the append that made the entry. It must still be a
 * typed error, lose no acknowledged record, and leave a log that closes and reopens correctly.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, openLog, readAll } from '../helpers/storage'

const VALUE = 'v'.repeat(1000)

describe('review: index write faults', () => {
  it('ENOSPC writing index entries at a roll: typed, nothing lost, the log rolls once it clears', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none', segmentBytes: 40_000 } })
    let next = 0
    const appendOne = () => {
      log.append(batchOf([VALUE, VALUE, VALUE, VALUE]), { deepValidation: false })
      next += 4
    }
    while (log.activeSegment.size + 4200 <= 40_000) appendOne()
    expect(log.activeSegment.offsetIndex.entries).toBeGreaterThan(0)
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.index', errno: 'ENOSPC' })
    let failure: unknown
    try {
      appendOne()
    } catch (e) {
      failure = e
    }
    if (failure !== undefined) expect(failure).toMatchObject({ code: 'ERR_NO_SPACE' })
    expect(log.logEndOffset).toBe(next)
    clear()
    appendOne()
    appendOne()
    expect(log.logEndOffset).toBe(next)
    expect(readAll(log).map((r) => r.offset)).toEqual(Array.from({ length: next }, (_, i) => i))
    await log.close()
    const again = await openLog(fs, '/d/t-0', { config: { durability: 'none', segmentBytes: 40_000 } })
    expect(again.recoveryReport.problems).toEqual([])
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: next }, (_, i) => i))
    for (const s of again.segmentList) {
      expect(fs.stat(s.offsetIndex.file.path).size % 8).toBe(0)
    }
    for (const o of [1, 13, next - 1]) expect(again.read(o, 10).records.readBigInt64BE(0) <= BigInt(o)).toBe(true)
    await again.close()
  })

  it('ENOSPC writing pending index entries at close: close is a typed error, and the log reopens with every record', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync' } })
    for (let i = 0; i < 20; i++) log.append(batchOf([VALUE, VALUE, VALUE, VALUE]), { deepValidation: false })
    await log.flush()
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.index', errno: 'ENOSPC' })
    await expect(log.close()).rejects.toMatchObject({ code: 'ERR_NO_SPACE' })
    clear()
    const again = await openLog(fs.processCrash(), '/d/t-0', { config: { durability: 'fsync' } })
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: 80 }, (_, i) => i))
    await again.close()
  })

  it('ENOSPC writing pending index entries at close: the records are still fsynced and the log is closed', async () => {
    const fs = new MemoryFileSystem()
    // 'none': nothing was fsynced before close, so only close's own flush can make the records durable.
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    // The engine makes the partition directory itself durable; a bare log leaves that to its caller.
    for (const dir of ['/', '/d']) await fs.syncDir(dir)
    for (let i = 0; i < 20; i++) log.append(batchOf([VALUE, VALUE, VALUE, VALUE]), { deepValidation: false })
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.index', errno: 'ENOSPC' })
    await expect(log.close()).rejects.toMatchObject({ code: 'ERR_NO_SPACE' })
    expect(() => log.append(batchOf([VALUE]))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    clear()
    const again = await openLog(fs.crash(), '/d/t-0', { config: { durability: 'none' } })
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: 80 }, (_, i) => i))
    expect(recordsAtEveryIndexEntry(again)).toBe(true)
    await again.close()
  })
})

/** Every offset-index entry of every segment points at the batch holding its offset. */
function recordsAtEveryIndexEntry(log: Awaited<ReturnType<typeof openLog>>): boolean {
  for (const o of [0, 17, 41, 79]) if (log.read(o, 10).records.readBigInt64BE(0) > BigInt(o)) return false
  return true
}

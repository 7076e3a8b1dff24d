/**
 * I/O faults during append (ENOSPC, EIO, short writes) surface as typed errors, leave nothing
 * half-written, and the log stays readable and appendable once the condition clears.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, openLog, readAll } from '../helpers/storage'

describe('PartitionLog > faults', () => {
  it.each([
    ['ENOSPC', 'ERR_NO_SPACE'],
    ['EIO', 'ERR_IO'],
  ] as const)('%s during append is %s and the log recovers when it clears', async (errno, code) => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    log.append(batchOf(['a']))
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.log', errno })
    expect(() => log.append(batchOf(['b']))).toThrow(expect.objectContaining({ code }))
    expect(log.logEndOffset).toBe(1)
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a'])
    clear()
    expect(log.append(batchOf(['c']))).toMatchObject({ baseOffset: 1 })
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'c'])
    await log.close()
    const again = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(['a', 'c'])
    expect(again.recoveryReport.bytesTruncated).toBe(0)
  })

  it('a short write leaves no torn batch behind', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    log.append(batchOf(['a']))
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.log', errno: 'ENOSPC', shortWrite: 10, times: 1 })
    expect(() => log.append(batchOf(['b']))).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE' }))
    clear()
    log.append(batchOf(['c']))
    await log.close()
    const again = await openLog(fs, '/d/t-0', { config: { durability: 'none' } })
    expect(again.recoveryReport.problems).toEqual([])
    expect(readAll(again).map((r) => r.value?.toString())).toEqual(['a', 'c'])
  })

  it('EIO on fsync fails the waiting appends and, in fsync durability, never serves the unsynced tail', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync' } })
    log.append(batchOf(['a']))
    await log.flushUpTo(0)
    const clear = fs.injectFault({ op: 'sync', errno: 'EIO', times: 1 })
    const { lastOffset } = log.append(batchOf(['b']))
    await expect(log.flushUpTo(lastOffset)).rejects.toMatchObject({ code: 'ERR_IO' })
    clear()
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a'])
    const next = log.append(batchOf(['c']))
    await log.flushUpTo(next.lastOffset)
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['a', 'c'])
    await log.close()
  })

  it('bad input is refused with a typed error and leaves the log unchanged', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none', maxMessageBytes: 200 } })
    log.append(batchOf(['a']))
    const sizeBefore = log.size
    const corrupt = batchOf(['b'])
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1
    expect(() => log.append(Buffer.concat([batchOf(['ok']), corrupt]))).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_RECORD' }))
    expect(() => log.append(batchOf(['x'.repeat(300)]))).toThrow(expect.objectContaining({ code: 'ERR_RECORD_TOO_LARGE' }))
    expect(() => log.append(Buffer.from('garbage'))).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_RECORD' }))
    expect(() => log.append('nope' as unknown as Buffer)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(log.size).toBe(sizeBefore)
    expect(log.logEndOffset).toBe(1)
    await log.close()
  })
})

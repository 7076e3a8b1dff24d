/**
 * Recovery: whatever the damage (torn tail, flipped bytes, truncated `.log`, deleted or garbage
 * indexes, debris of interrupted work), the log opens, reports what it found, and keeps every record
 * before the damage; nothing invalid is ever served.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, durableMemoryFs, openLog, readAll } from '../helpers/storage'

const DIR = '/d/t-0'
const SEG0 = `${DIR}/00000000000000000000`

async function logWith(fs: MemoryFileSystem, batches: number, config = {}) {
  const log = await openLog(fs, DIR, { config: { durability: 'none', indexIntervalBytes: 50, ...config } })
  for (let i = 0; i < batches; i++) log.append(batchOf([`value-${i}`]))
  return log
}

function corrupt(fs: MemoryFileSystem, path: string, edit: (b: Buffer) => Buffer): void {
  const data = edit(Buffer.from(fs.readFile(path)))
  const h = fs.open(path, 'rw')
  h.truncate(0)
  h.write(data, 0, data.length, 0)
  h.close()
}

describe('recovery', () => {
  it('a torn tail left by a machine crash is cut and never served', async () => {
    const fs = await durableMemoryFs()
    const log = await logWith(fs, 10)
    await log.flush()
    for (let i = 10; i < 20; i++) log.append(batchOf([`value-${i}`]))
    const crashed = fs.crash({ tornWrites: true, seed: 7 })
    const again = await openLog(crashed, DIR, { config: { durability: 'none' }, recoveryPoint: 10 })
    const values = readAll(again).map((r) => r.value?.toString())
    expect(values.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `value-${i}`))
    values.forEach((v, i) => expect(v).toBe(`value-${i}`))
    expect(again.logEndOffset).toBe(values.length)
    expect(again.append(batchOf(['after']))).toMatchObject({ baseOffset: values.length })
  })

  it('a flipped byte inside a batch truncates the log at that batch and keeps everything before it', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 10)
    const { records } = log.read(5, 1)
    const position = fs.readFile(`${SEG0}.log`).indexOf(records)
    await log.close()
    corrupt(fs, `${SEG0}.log`, (b) => {
      b[position + 40] = b[position + 40]! ^ 0xff
      return b
    })
    const again = await openLog(fs, DIR, { config: { durability: 'none' } })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/CRC|crc/)
    expect(readAll(again).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4])
    expect(again.logEndOffset).toBe(5)
  })

  it('a truncated .log loses only the cut batch', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 10)
    await log.close()
    corrupt(fs, `${SEG0}.log`, (b) => b.subarray(0, b.length - 5))
    const again = await openLog(fs, DIR, { config: { durability: 'none' } })
    expect(readAll(again).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(again.recoveryReport.bytesTruncated).toBeGreaterThan(0)
  })

  it('a deleted .index and .timeindex are rebuilt even after a clean shutdown', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 30)
    await log.close()
    const original = fs.readFile(`${SEG0}.index`)
    fs.unlink(`${SEG0}.index`)
    fs.unlink(`${SEG0}.timeindex`)
    const again = await openLog(fs, DIR, { config: { durability: 'none', indexIntervalBytes: 50 }, recoveryPoint: 30, hadCleanShutdown: true })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/missing \.index/)
    expect(readAll(again).length).toBe(30)
    await again.close()
    expect(fs.readFile(`${SEG0}.index`)).toEqual(original)
  })

  it('a garbage .index of a valid length is detected on first use and rebuilt', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 30, { segmentBytes: 1500 })
    await log.close()
    corrupt(fs, `${SEG0}.index`, (b) => Buffer.alloc(b.length, 0x7f))
    const again = await openLog(fs, DIR, { config: { durability: 'none', indexIntervalBytes: 50, segmentBytes: 1500 }, recoveryPoint: 30, hadCleanShutdown: true })
    expect(readAll(again).map((r) => r.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(again.recoveryReport.problems.join('\n')).toMatch(/segment 0: .*indexes rebuilt/)
  })

  it('an index whose length is not a whole number of entries is rebuilt', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 30)
    await log.close()
    corrupt(fs, `${SEG0}.timeindex`, (b) => Buffer.concat([b, Buffer.from([1, 2, 3])]))
    const again = await openLog(fs, DIR, { config: { durability: 'none' }, recoveryPoint: 30, hadCleanShutdown: true })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/timeindex/)
    expect(readAll(again).length).toBe(30)
  })

  it('debris of interrupted work (.tmp, .cleaned, .deleted) is removed at open', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 3)
    await log.close()
    for (const name of ['00000000000000000000.log.cleaned', '00000000000000000000.log.deleted', 'x.tmp']) {
      const h = fs.open(`${DIR}/${name}`, 'rw')
      h.write(Buffer.from('junk'), 0, 4, 0)
      h.close()
    }
    const again = await openLog(fs, DIR, { config: { durability: 'none' } })
    expect(fs.readdir(DIR).filter((n) => /cleaned|deleted|tmp/.test(n))).toEqual([])
    expect(readAll(again).length).toBe(3)
  })

  it('without a recovery point every segment is scanned; with one only segments past it are', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 40, { segmentBytes: 400 })
    await log.close()
    const segments = log.segmentCount
    expect(segments).toBeGreaterThan(3)
    const full = await openLog(fs, DIR, { config: { durability: 'none', segmentBytes: 400 } })
    expect(full.recoveryReport.segmentsRecovered).toBe(segments)
    await full.close()
    const lastBase = full.activeSegment.baseOffset
    const partial = await openLog(fs, DIR, { config: { durability: 'none', segmentBytes: 400 }, recoveryPoint: lastBase })
    expect(partial.recoveryReport.segmentsRecovered).toBe(1)
    expect(readAll(partial).length).toBe(40)
  })

  it('a clean open reads no .log data', async () => {
    const fs = new MemoryFileSystem()
    const log = await logWith(fs, 200, { segmentBytes: 2000 })
    await log.close()
    fs.resetStats()
    const again = await openLog(fs, DIR, { config: { durability: 'none', segmentBytes: 2000 }, recoveryPoint: 200, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(fs.bytesReadByPath((p) => p.endsWith('.log'))).toBe(0)
    expect(again.logEndOffset).toBe(200)
  })
})

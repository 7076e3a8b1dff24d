/**
 * The fetch read path (LogSegment.readFrom): one read from the index entry covers the header walk and
 * the result in the common case; batches far from their index entry (larger than the read's slack)
 * and every offset in between must come back exactly as a batch-by-batch walk would give them. A read
 * into a caller's buffer returns the same bytes as a read into a new one, as a view of that buffer when
 * they fit in it.
 */
import { describe, expect, it } from 'vitest'
import { batchOf, FILE_SYSTEMS, openLog, recordsIn } from '../helpers/storage'

describe.each(FILE_SYSTEMS)('PartitionLog > read path ($name)', ({ make }) => {
  it('read > every offset of small and >64 KiB batches starts at the batch holding it, within maxBytes', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    // Small batches, then batches larger than the 64 KiB slack (so the fallback runs), then small again.
    const sizes = [3, 3, 3, 2, 2, 3, 3]
    const valueBytes = [100, 100, 100, 70_000, 90_000, 100, 100]
    const batches: { base: number; last: number }[] = []
    for (let b = 0; b < sizes.length; b++) {
      const values = Array.from({ length: sizes[b]! }, (_, i) => `${b}:${i}:`.padEnd(valueBytes[b]!, 'x'))
      const { baseOffset, lastOffset } = log.append(batchOf(values), { deepValidation: false })
      batches.push({ base: baseOffset, last: lastOffset })
    }
    for (const maxBytes of [1, 1000, 100_000, 1 << 20]) {
      for (let offset = 0; offset < log.logEndOffset; offset++) {
        const { records } = log.read(offset, maxBytes)
        const holding = batches.find((b) => b.base <= offset && offset <= b.last)!
        const got = recordsIn(records)
        expect(got[0]!.offset).toBe(holding.base)
        expect(records.length <= maxBytes || got.at(-1)!.offset === holding.last).toBe(true)
        // Offsets are consecutive: no batch skipped or repeated inside one read.
        expect(got.map((r) => r.offset)).toEqual(got.map((_, i) => holding.base + i))
      }
    }
    await log.close()
  })

  it('read > into a caller buffer gives whole batches from the same batch, as a view of that buffer when they fit in it', async () => {
    const { fs, root } = make()
    const log = await openLog(fs, `${root}/t-0`, { config: { durability: 'none' } })
    const sizes = [3, 3, 2, 2, 3, 40, 3]
    const valueBytes = [100, 100, 70_000, 90_000, 100, 1000, 100]
    for (let b = 0; b < sizes.length; b++) {
      log.append(batchOf(Array.from({ length: sizes[b]! }, (_, i) => `${b}:${i}:`.padEnd(valueBytes[b]!, 'x'))), { deepValidation: false })
    }
    // Buffers smaller than some batches (those come in a new Buffer), around the slack, and roomy.
    for (const bufferBytes of [100, 50_000, 200_000, 1 << 20]) {
      const buffer = Buffer.alloc(bufferBytes, 0xee)
      for (const maxBytes of [1, 1000, 100_000, 1 << 20]) {
        for (let offset = 0; offset < log.logEndOffset; offset++) {
          const what = `buffer ${bufferBytes}, maxBytes ${maxBytes}, offset ${offset}`
          const expected = Buffer.from(log.read(offset, maxBytes).records)
          const { records } = log.read(offset, maxBytes, { buffer })
          // A prefix of what a read without the buffer returns, of whole batches, at least the first one.
          expect(recordsIn(records)[0]!.offset, what).toBe(recordsIn(expected)[0]!.offset)
          expect(records.equals(expected.subarray(0, records.length)), what).toBe(true)
          // All of it when the buffer holds maxBytes plus the read's slack (64 KiB).
          if (bufferBytes >= maxBytes + 65_536) expect(records.length, what).toBe(expected.length)
          const inBuffer = records.buffer === buffer.buffer && records.byteOffset >= buffer.byteOffset && records.byteOffset + records.length <= buffer.byteOffset + buffer.length
          // Only a first batch larger than the buffer comes in a new Buffer.
          const firstBatchBytes = 12 + records.readInt32BE(8)
          expect(inBuffer, what).toBe(firstBatchBytes <= bufferBytes)
        }
      }
    }
    await log.close()
  })
})

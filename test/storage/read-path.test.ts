/**
 * The fetch read path (LogSegment.readFrom): one read from the index entry covers the header walk and
 * the result in the common case; batches far from their index entry (larger than the read's slack)
 * and every offset in between must come back exactly as a batch-by-batch walk would give them.
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
})

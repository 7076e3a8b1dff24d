/**
 * Review probe: Partition.read, with or without a caller's buffer, returns whole batches starting at the
 * batch holding the offset (at least one, more only within maxBytes), for any buffer size and maxBytes,
 * at every offset up to the high watermark. (How many batches past the first is a choice of the read:
 * a buffer read may return more or fewer than a plain one.)
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { batchOf, openLog } from '../helpers/storage'
import { mulberry32 } from '../helpers/random'

describe('review: read into a caller buffer', () => {
  it('and without one give whole batches from the batch of the offset, within maxBytes for random batch sizes, buffer sizes and maxBytes', async () => {
    const rand = mulberry32(7)
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, '/d/t-0', { config: { durability: 'none', segmentBytes: 200_000, indexIntervalBytes: 1000 } })
    for (let i = 0; i < 120; i++) {
      const n = 1 + Math.floor(rand() * 4)
      const size = Math.floor(rand() ** 3 * 20_000)
      log.append(batchOf(Array.from({ length: n }, () => 'v'.repeat(size))), { deepValidation: false })
    }
    expect(log.segmentList.length).toBeGreaterThan(1)
    for (let iter = 0; iter < 2000; iter++) {
      const offset = Math.floor(rand() * (log.highWatermark + 1))
      const maxBytes = Math.floor(rand() ** 2 * 100_000)
      const buffer = Buffer.alloc(Math.floor(rand() ** 2 * 100_000))
      const whole = log.read(offset, 1 << 30).records
      const what = `offset ${offset} maxBytes ${maxBytes} buffer ${buffer.length}`
      for (const got of [log.read(offset, maxBytes).records, log.read(offset, maxBytes, { buffer }).records]) {
        // Whole batches from the batch holding the offset: a prefix of everything from there, at least one
        // batch, and more than one only within maxBytes.
        expect(got.length === 0, what).toBe(whole.length === 0)
        expect(Buffer.compare(got, whole.subarray(0, got.length)), what).toBe(0)
        let at = 0
        let batches = 0
        while (at < got.length) {
          at += 12 + got.readInt32BE(at + 8)
          batches++
        }
        expect(at, what).toBe(got.length)
        if (batches > 1) expect(got.length, what).toBeLessThanOrEqual(maxBytes)
      }
      const into = log.read(offset, maxBytes, { buffer }).records
      if (into.length > 0 && into.length <= buffer.length) {
        // Whether a view is used is an optimisation; but a view must lie inside the buffer.
        if (into.buffer === buffer.buffer) expect(into.byteOffset - buffer.byteOffset + into.length).toBeLessThanOrEqual(buffer.length)
      }
    }
    await log.close()
  })
})

/**
 * A consumer-like reader interleaved with a cleaner pass (retention, then compaction in slices). The
 * cleaner's yield between slices is a gate the test opens one slice at a time, and the reader reads a
 * small chunk between slices. Invariants checked on every read:
 *   1. no error other than ERR_OFFSET_OUT_OF_RANGE below the log start offset (retention moved it; the
 *      reader resets to the log start offset, as a consumer with auto.offset.reset=earliest does);
 *   2. every batch passes its CRC (no torn read);
 *   3. offsets strictly increase across the whole read;
 *   4. every record is the original record at its offset (old data or compacted data, never a mix
 *      within a record, never an invented one);
 * and after the pass a full read holds only what the policy allows: the latest record per key, none
 * of them from deleted segments.
 */
import { describe, expect, it } from 'vitest'
import { decodeRecords, readLastOffset, validateBatch } from '../../src/codec/record-batch'
import { isKafkaliteError } from '../../src/errors/index'
import { fixture, keyedBatch, readAllChecked } from './helpers'

const MINUTE = 60_000

/** A slice gate: the cleaner waits in `yieldSlice` until the test calls `open()`. */
function sliceGate(): { yieldSlice: () => Promise<void>; open: () => boolean; slices: () => number } {
  const waiting: (() => void)[] = []
  let slices = 0
  return {
    yieldSlice: () =>
      new Promise<void>((resolve) => {
        slices++
        waiting.push(resolve)
      }),
    open: () => {
      const next = waiting.shift()
      next?.()
      return next !== undefined
    },
    slices: () => slices,
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Cleaner > a reader during a pass', () => {
  it('sees increasing offsets and only original records while compaction and retention run in slices', async () => {
    const gate = sliceGate()
    const f = await fixture({ cleanupPolicy: 'compact,delete', retentionMs: 10 * MINUTE, segmentBytes: 400 }, { yieldSlice: gate.yieldSlice, sliceBudgetMs: 0, chunkBytes: 150 })
    const t0 = f.clock.now()
    const original = new Map<number, string>()
    for (let i = 0; i < 120; i++) {
      // The first 30 records are 20 minutes old: retention takes their segments.
      const timestamp = i < 30 ? t0 - 20 * MINUTE : t0
      const key = `k${(i * 7) % 13}`
      const { baseOffset } = f.log.append(keyedBatch([{ key, value: `v${i}`, timestamp }], f.clock))
      original.set(baseOffset, `${key}=v${i}`)
    }
    f.log.roll()
    f.setConfig({ segmentBytes: 1200 })

    let position = 0
    let last = -1
    let resets = 0
    let readsDuringPass = 0
    let done = false
    const pass = f.cleaner.runOnce().then((report) => {
      done = true
      return report
    })
    for (let step = 0; step < 10_000 && !(done && position >= f.log.highWatermark); step++) {
      let records: Buffer
      try {
        records = f.log.read(position, 150).records
      } catch (e) {
        expect(isKafkaliteError(e, 'ERR_OFFSET_OUT_OF_RANGE')).toBe(true)
        expect(position).toBeLessThan(f.log.logStartOffset)
        position = f.log.logStartOffset
        resets++
        continue
      }
      if (!done) readsDuringPass++
      for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) {
        validateBatch(records, pos)
        for (const r of decodeRecords(records, pos, { maxDecompressedBytes: 1 << 20 })) {
          if (r.offset < position) continue
          expect(r.offset).toBeGreaterThan(last)
          last = r.offset
          expect(`${r.key}=${r.value}`).toBe(original.get(r.offset))
        }
        position = Math.max(position, readLastOffset(records, pos) + 1)
      }
      gate.open()
      await macrotask()
    }
    const report = await pass
    expect(done).toBe(true)
    expect(report.deleted.length).toBeGreaterThan(0)
    expect(report.compactions).toHaveLength(1)
    expect(gate.slices()).toBeGreaterThan(10)
    expect(readsDuringPass).toBeGreaterThan(10)
    expect(resets).toBeLessThanOrEqual(1)
    expect(position).toBe(f.log.highWatermark)

    // After the pass: one record per key, its latest, all from the retained part of the log.
    const after = readAllChecked(f.log)
    const latest = new Map<string, number>()
    for (const [offset, kv] of original) if (offset >= f.log.logStartOffset) latest.set(kv.split('=')[0]!, offset)
    expect(after.map((r) => r.offset)).toEqual([...latest.values()].sort((a, b) => a - b))
  })
})

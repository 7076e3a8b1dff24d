/**
 * A truncation (Partition.truncateTo, synchronous and public) that lands while a compaction round is
 * between its awaits: the round must not swap in segments that hold truncated records, and the log,
 * live and reopened, must hold nothing at or after the truncation point.
 *
 * For every slice k of the round, a fresh log is cleaned with the truncation made at slice k.
 * Invariants: the pass settles without an assertion failure; the live log and the reopened log both
 * end at the truncation point, every batch passes its CRC, and every record is the original one.
 */
import { describe, expect, it } from 'vitest'
import { PartitionLog } from '../../src/storage/partition-log'
import { fixture, keyedBatch, LOG_DIR, readAllChecked } from './helpers'

function sliceGate() {
  const waiting: (() => void)[] = []
  return {
    yieldSlice: () => new Promise<void>((resolve) => waiting.push(resolve)),
    open: () => {
      const next = waiting.shift()
      next?.()
      return next !== undefined
    },
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Cleaner > a truncation during a compaction round', () => {
  it('never swaps in records at or after the truncation point, live or after a reopen, whatever slice it lands on', async () => {
    // A budget of 0 yields after every step (each batch, each step of the offset map's work), so the
    // truncation lands between any two of them; a small map keeps its work to a few steps.
    let coveredWholePass = false
    for (let k = 0; k < 200; k++) {
      const gate = sliceGate()
      const f = await fixture({ segmentBytes: 100 }, { yieldSlice: gate.yieldSlice, sliceBudgetMs: 0, chunkBytes: 64, dedupeBufferSize: 24 * 64 })
      const original = new Map<number, string>()
      for (let i = 0; i < 12; i++) {
        const { baseOffset } = f.log.append(keyedBatch([{ key: `k${i % 3}`, value: `v${i}` }], f.clock))
        original.set(baseOffset, `k${i % 3}=v${i}`)
      }
      f.log.roll()
      f.setConfig({ segmentBytes: 1000 }) // groups of several segments
      const truncateAt = 7
      let settled = false
      const pass = f.cleaner.runOnce().then(
        () => void (settled = true),
        (e: unknown) => {
          settled = true
          throw e
        },
      )
      for (let s = 0; s < k && !settled; s++) {
        gate.open()
        await macrotask()
      }
      const truncatedDuringPass = !settled
      f.log.truncateTo(truncateAt)
      while (!settled) {
        gate.open()
        await macrotask()
      }
      await pass
      const check = (log: PartitionLog, logEndOffset: number) => {
        expect(log.logEndOffset).toBe(logEndOffset)
        for (const r of readAllChecked(log)) {
          expect(r.offset).toBeLessThan(truncateAt)
          expect(`${r.key}=${r.value}`).toBe(original.get(r.offset))
        }
      }
      check(f.log, truncateAt)
      const lastKept = readAllChecked(f.log).at(-1)?.offset ?? -1
      // No leftover .cleaned or .swap files: an aborted round removes what it wrote.
      expect(f.fs.readdir(LOG_DIR).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'))).toEqual([])
      await f.cleaner.stop()
      await f.log.close()
      const reopened = await PartitionLog.open({ fs: f.fs, clock: f.clock, dir: LOG_DIR, topic: 't', partition: 0, config: f.config })
      // Recovery sets the log end after the last batch kept; compaction may have removed the records
      // just below the truncation point (a storage-layer limit, not the cleaner's).
      check(reopened, Math.max(reopened.logStartOffset, lastKept + 1))
      expect(reopened.logEndOffset).toBeLessThanOrEqual(truncateAt)
      await reopened.close()
      if (!truncatedDuringPass) {
        coveredWholePass = true
        break
      }
    }
    expect(coveredWholePass).toBe(true)
  })
})

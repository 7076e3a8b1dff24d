/**
 * Review probe: a log closed while a compaction round is paused, at every pause of the round in turn.
 * The round stops without an error, leaves no `.cleaned` or `.swap` file, and the log reopens cleanly
 * with original records only, the latest of each key among them (swaps committed before the close stay).
 */
import { describe, expect, it } from 'vitest'
import { fixture, keyedBatch, openLog, readAllChecked, show } from '../cleaner/helpers'

describe('review: close during a paused compaction round', () => {
  it('at every pause: no error, no debris, and the reopened log holds original records, the latest of each key among them', async () => {
    const original = ['a=1@0', 'a=2@1', 'b=1@2', 'a=3@3', 'b=2@4', 'c=1@5']
    const compacted = ['a=3@3', 'b=2@4', 'c=1@5']
    const outcomes = new Set<string>()
    for (let stopAt = 0; ; stopAt++) {
      const waiting: (() => void)[] = []
      const f = await fixture({ segmentBytes: 150 }, { yieldSlice: () => new Promise<void>((resolve) => waiting.push(resolve)), sliceBudgetMs: 0, chunkBytes: 100 })
      const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
      for (const [k, v] of [['a', '1'], ['a', '2'], ['b', '1'], ['a', '3'], ['b', '2'], ['c', '1']] as const) f.log.append(kv(k, v))
      f.log.roll()
      const pass = f.cleaner.runOnce()
      let pauses = 0
      let closed = false
      let finished = false
      void pass.finally(() => (finished = true))
      while (!finished) {
        await new Promise((r) => setImmediate(r))
        if (waiting.length === 0) continue
        if (pauses++ === stopAt && !closed) {
          closed = true
          await f.log.close()
        }
        waiting.shift()!()
      }
      const report = await pass
      expect(report.errors, `stop at pause ${stopAt}`).toEqual([])
      if (!closed) {
        await f.log.close()
        // The round had fewer pauses than stopAt: every pause has been tried.
        expect(outcomes.size).toBeGreaterThan(0)
        break
      }
      expect(f.fs.readdir('/d/t-0').filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap')), `stop at pause ${stopAt}`).toEqual([])
      const reopened = await openLog(f.fs, f.clock, f.config)
      const kept = show(readAllChecked(reopened))
      // Groups swapped before the close are compacted, the others not: original records only, the latest of each key among them.
      for (const r of kept) expect(original, `stop at pause ${stopAt}: ${kept.join(' ')}`).toContain(r)
      for (const r of compacted) expect(kept, `stop at pause ${stopAt}: ${kept.join(' ')}`).toContain(r)
      outcomes.add(JSON.stringify(kept))
      await reopened.close()
    }
    // Closes early in the round keep everything; late ones find it compacted.
    expect(outcomes.has(JSON.stringify(original))).toBe(true)
    expect(outcomes.has(JSON.stringify(compacted))).toBe(true)
  })
})

/**
 * Review probe of sliced compaction against a model: random keyed batches (large ones mapped and
 * filtered in parts, compressed ones, keys repeated inside a batch, tombstones), a small offset map
 * (rounds that stop when it is full, possibly inside a batch), a budget of 0 (a pause after every step),
 * and appends arriving during the pauses. After the cleaner is idle, the log holds every original record
 * it held at its original offset or none, and the latest record of every key is still there.
 */
import { describe, expect, it } from 'vitest'
import type { CompressionCodec } from '../../src/codec/record-batch'
import { mulberry32 } from '../helpers/random'
import { fixture, keyedBatch, readAllChecked } from '../cleaner/helpers'

interface Written {
  key: string
  value: string | null
}

describe('review: sliced compaction against a model', () => {
  it.each([
    [1, 24 * 64],
    [2, 24 * 300],
    [3, 1024 * 1024],
    [4, 24 * 40],
  ])('seed %i, map of %i bytes: every key keeps its latest record; everything kept is an original record', async (seed, dedupeBufferSize) => {
    const rand = mulberry32(seed)
    let appendDuringPause = false
    let appendedDuringPauses = 0
    let mapFullRounds = 0
    const written: Written[] = []
    let f: Awaited<ReturnType<typeof fixture>>
    const appendRandom = (n: number, compression: CompressionCodec = 'none') => {
      const records = Array.from({ length: n }, () => {
        const key = `key-${Math.floor(rand() * 150)}`
        const value = rand() < 0.1 ? null : `v${written.length}-${Math.floor(rand() * 1e6)}`
        return { key, value }
      })
      const { baseOffset } = f.log.append(keyedBatch(records, f.clock, { compression }))
      records.forEach((r, i) => (written[baseOffset + i] = r))
    }
    f = await fixture(
      { segmentBytes: 8 * 1024, deleteRetentionMs: 1e12, minCleanableDirtyRatio: 0 },
      {
        dedupeBufferSize,
        sliceBudgetMs: 0,
        yieldSlice: () =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              if (appendDuringPause && rand() < 0.3) {
                appendRandom(1 + Math.floor(rand() * 5))
                appendedDuringPauses++
              }
              resolve()
            }),
          ),
      },
    )
    for (let b = 0; b < 40; b++) {
      const large = rand() < 0.15
      appendRandom(large ? 300 + Math.floor(rand() * 400) : 1 + Math.floor(rand() * 20), rand() < 0.2 ? 'gzip' : 'none')
    }
    f.log.roll()
    appendDuringPause = true
    for (let pass = 0; pass < 6; pass++) {
      const report = await f.cleaner.runOnce()
      expect(report.errors).toEqual([])
      mapFullRounds += report.compactions.filter((c) => c.mapFull).length
      f.log.roll()
    }
    appendDuringPause = false
    await f.cleaner.runUntilIdle()
    if (dedupeBufferSize < 24 * 150) expect(mapFullRounds).toBeGreaterThan(0)
    const kept = readAllChecked(f.log)
    for (const r of kept) {
      const original = written[r.offset]!
      expect([r.key?.toString(), r.value?.toString() ?? null], `offset ${r.offset}`).toEqual([original.key, original.value])
    }
    const keptOffsets = new Set(kept.map((r) => r.offset))
    const latest = new Map<string, number>()
    written.forEach((r, offset) => latest.set(r.key, offset))
    for (const [key, offset] of latest) {
      if (written[offset]!.value !== null) expect(keptOffsets.has(offset), `${key}@${offset}`).toBe(true)
    }
    // Compaction happened: at most one live record per key below the active segment, plus tombstones.
    const cleanEnd = f.log.activeSegment.baseOffset
    const liveBelow = kept.filter((r) => r.offset < cleanEnd)
    const byKey = new Map<string, number>()
    for (const r of liveBelow) byKey.set(r.key!.toString(), (byKey.get(r.key!.toString()) ?? 0) + 1)
    expect(Math.max(...byKey.values())).toBe(1)
  })
})

describe('review: two cleaners in one process', () => {
  it('interleaving slice by slice, each compacts its own log exactly as it does alone', async () => {
    const build = async () => {
      const rand = mulberry32(99)
      const f = await fixture({ segmentBytes: 8 * 1024, minCleanableDirtyRatio: 0 }, { dedupeBufferSize: 24 * 64, sliceBudgetMs: 0 })
      for (let b = 0; b < 30; b++) {
        const n = rand() < 0.2 ? 400 : 1 + Math.floor(rand() * 20)
        const records = Array.from({ length: n }, () => ({ key: `key-${Math.floor(rand() * 120)}`, value: `v${Math.floor(rand() * 1e6)}` }))
        f.log.append(keyedBatch(records, f.clock, { compression: rand() < 0.3 ? 'gzip' : 'none' }))
      }
      f.log.roll()
      return f
    }
    const alone = await build()
    await alone.cleaner.runUntilIdle()
    const expected = readAllChecked(alone.log).map((r) => [r.offset, r.key?.toString(), r.value?.toString()])
    const [a, b] = [await build(), await build()]
    await Promise.all([a.cleaner.runUntilIdle(), b.cleaner.runUntilIdle()])
    for (const f of [a, b]) expect(readAllChecked(f.log).map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual(expected)
    expect(expected.length).toBeLessThan(200)
  })
})

/**
 * Compaction, end to end through the CleanerManager on an in-memory log with a manual clock.
 * Invariants checked: the latest record of every key survives at its original offset; older records of
 * a key and expired tombstones go; offsets only increase; every batch read back passes its CRC; the log
 * end offset does not move.
 */
import { describe, expect, it } from 'vitest'
import { readBatchHeader } from '../../src/codec/record-batch'
import { loadCodecs } from '../../src/codec/compression/index'
import { appendAll, fixture, keyedBatch, readAllChecked, show } from './helpers'

const DAY = 24 * 60 * 60 * 1000

/** `base..last:recordCount:producerId` of each batch. */
function batchShapes(records: Buffer): string[] {
  const out: string[] = []
  for (let pos = 0; pos < records.length; pos += readBatchHeader(records, pos).sizeInBytes) {
    const h = readBatchHeader(records, pos)
    out.push(`${h.baseOffset}..${h.lastOffset}:${h.recordsCount}:${h.producerId}`)
  }
  return out
}

describe('Cleaner > compaction', () => {
  it('keeps the latest record per key at its original offset (the textbook example)', async () => {
    const f = await fixture()
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('user1', 'v1'), kv('user2', 'v1'), kv('user1', 'v2'), kv('user3', 'v1'), kv('user2', 'v2')])
    f.log.roll()
    expect(f.log.segmentCount).toBe(6)
    // Merge everything on rewrite: the groups are bounded by segmentBytes.
    f.setConfig({ segmentBytes: 1024 * 1024 })

    const report = await f.cleaner.runOnce()

    expect(report.compactions).toHaveLength(1)
    expect(show(readAllChecked(f.log))).toEqual(['user1=v2@2', 'user3=v1@3', 'user2=v2@4'])
    expect(f.log.segmentCount).toBe(2)
    expect(f.log.logEndOffset).toBe(5)
    expect(f.log.append(kv('user4', 'v1')).baseOffset).toBe(5)
  })

  it('removes a key with a tombstone, and the tombstone itself once deleteRetentionMs has passed', async () => {
    const f = await fixture({ minCleanableDirtyRatio: 0.01, deleteRetentionMs: DAY })
    const kv = (key: string, value: string | null) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('user1', 'v1'), kv('user2', 'v1'), kv('user1', 'v2'), kv('user3', 'v1'), kv('user2', 'v2')])
    f.log.roll()
    f.setConfig({ segmentBytes: 1024 * 1024 })
    await f.cleaner.runOnce()
    f.setConfig({ segmentBytes: 100 })
    appendAll(f.log, [kv('user1', null)])
    f.log.roll()
    f.setConfig({ segmentBytes: 1024 * 1024 })

    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toEqual(['user3=v1@3', 'user2=v2@4', 'user1=✝@5'])

    f.clock.advance(DAY - 1)
    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toContain('user1=✝@5')

    f.clock.advance(1)
    const report = await f.cleaner.runOnce()
    expect(report.compactions).toHaveLength(1)
    expect(show(readAllChecked(f.log))).toEqual(['user3=v1@3', 'user2=v2@4'])
    expect(f.log.logEndOffset).toBe(6)
  })

  it('marks a batch that keeps a tombstone with a delete horizon (attribute bit 6, baseTimestamp = now + deleteRetentionMs)', async () => {
    const f = await fixture({ deleteRetentionMs: 5000 })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'a', value: null }], f.clock)])
    f.log.roll()
    const now = f.clock.now()
    await f.cleaner.runOnce()
    const { records } = f.log.read(1, 1 << 20)
    const header = readBatchHeader(records, 0)
    expect(header.baseOffset).toBe(1)
    expect(header.hasDeleteHorizon).toBe(true)
    expect(header.baseTimestamp).toBe(now + 5000)
    expect(show(readAllChecked(f.log))).toEqual(['a=✝@1'])
    expect(readAllChecked(f.log)[0]!.timestamp).toBe(now)
  })

  it('never compacts the active segment', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    appendAll(f.log, [keyedBatch([{ key: 'a', value: '1' }], f.clock), keyedBatch([{ key: 'a', value: '2' }], f.clock)])
    const report = await f.cleaner.runOnce()
    expect(report.compactions).toEqual([])
    expect(show(readAllChecked(f.log))).toEqual(['a=1@0', 'a=2@1'])
  })

  it('protects records younger than minCompactionLagMs, and cleans them once they are old enough', async () => {
    const f = await fixture({ minCompactionLagMs: 10_000 })
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('a', '1'), kv('a', '2'), kv('a', '3')])
    f.log.roll()
    expect((await f.cleaner.runOnce()).compactions).toEqual([])
    f.clock.advance(10_001)
    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toEqual(['a=3@2'])
  })

  it('cleans a partition below minCleanableDirtyRatio once its oldest dirty record is older than maxCompactionLagMs', async () => {
    const f = await fixture({ minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 60_000 })
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('a', '1'), kv('b', '1'), kv('c', '1'), kv('d', '1')])
    f.log.roll()
    await f.cleaner.runOnce() // first round: everything is dirty (ratio 1)
    appendAll(f.log, [kv('a', '2')])
    f.log.roll()
    expect((await f.cleaner.runOnce()).compactions).toEqual([])
    f.clock.advance(60_000)
    expect((await f.cleaner.runOnce()).compactions).toHaveLength(1)
    expect(show(readAllChecked(f.log))).toEqual(['b=1@1', 'c=1@2', 'd=1@3', 'a=2@4'])
  })

  it('preserves offsets, gaps, producer fields and the last offset of a batch that loses records', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    f.log.append(keyedBatch([{ key: 'a', value: '1' }, { key: 'b', value: '1' }, { key: 'c', value: '1' }], f.clock, { producerId: 7, baseSequence: 0 }))
    f.log.append(keyedBatch([{ key: 'a', value: '2' }, { key: 'c', value: '2' }], f.clock, { producerId: 7, baseSequence: 3 }))
    f.log.append(keyedBatch([{ key: 'z', value: '1' }], f.clock))
    f.log.roll()
    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toEqual(['b=1@1', 'a=2@3', 'c=2@4', 'z=1@5'])
    const { records } = f.log.read(0, 1 << 20)
    const first = readBatchHeader(records, 0)
    expect([first.baseOffset, first.lastOffset, first.recordsCount]).toEqual([0, 2, 1])
    expect([first.producerId, first.producerEpoch, first.baseSequence, first.lastSequence]).toEqual([7, 0, 0, 2])
  })

  it('keeps an empty batch where a producer\'s last batch lost all its records', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    f.log.append(keyedBatch([{ key: 'a', value: '1' }], f.clock, { producerId: 9, baseSequence: 0 }))
    f.log.append(keyedBatch([{ key: 'a', value: '2' }], f.clock, { producerId: 9, baseSequence: 1 }))
    f.log.append(keyedBatch([{ key: 'b', value: '1' }], f.clock))
    f.log.append(keyedBatch([{ key: 'a', value: '3' }], f.clock))
    f.log.append(keyedBatch([{ key: 'b', value: '2' }], f.clock))
    f.log.roll()
    await f.cleaner.runOnce()
    // 0 goes (producer 9, superseded, not its last batch); 1 stays empty (producer 9's last batch:
    // its last offset and sequence must survive a rebuild of producer state); 2 goes; 3 and 4 stay.
    expect(batchShapes(f.log.read(0, 1 << 20).records)).toEqual(['1..1:0:9', '3..3:1:-1', '4..4:1:-1'])
  })

  it('ends a rewritten segment at its old last offset, with an empty batch if that batch lost all its records', async () => {
    const f = await fixture()
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('b', '1'), kv('a', '1'), kv('a', '2'), kv('c', '1')])
    f.log.roll()
    // Two groups of two segments: [b=1, a=1] and [a=2, c=1].
    f.setConfig({ segmentBytes: 2 * f.log.segmentList[0]!.size })
    await f.cleaner.runOnce()
    expect(f.log.segmentList.map((s) => s.baseOffset)).toEqual([0, 2, 4])
    expect(batchShapes(f.log.read(0, 1 << 20).records)).toEqual(['0..0:1:-1', '1..1:0:-1'])
    expect(show(readAllChecked(f.log))).toEqual(['b=1@0', 'a=2@2', 'c=1@3'])
  })

  it('merges small segments on rewrite up to segmentBytes', async () => {
    const f = await fixture()
    for (let i = 0; i < 12; i++) f.log.append(keyedBatch([{ key: `k${String(i).padStart(2, '0')}`, value: 'x'.repeat(20) }], f.clock))
    f.log.roll()
    const size = f.log.segmentList[0]!.size
    expect(f.log.segmentCount).toBe(13)
    f.setConfig({ segmentBytes: size * 4 })
    await f.cleaner.runOnce()
    expect(f.log.segmentCount).toBe(4)
    expect(f.log.segmentList.map((s) => s.baseOffset)).toEqual([0, 4, 8, 12])
    expect(readAllChecked(f.log)).toHaveLength(12)
  })

  it('rebuilds the indexes of a rewritten segment so that reads from any offset find their batch', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024, indexIntervalBytes: 0 })
    for (let i = 0; i < 50; i++) f.log.append(keyedBatch([{ key: `k${i % 10}`, value: `v${i}` }], f.clock))
    f.log.roll()
    await f.cleaner.runOnce()
    const segment = f.log.segmentList[0]!
    expect(segment.offsetIndex.entries).toBe(9) // ten kept batches, the first one never indexed
    segment.sanityCheckIndexes()
    for (let offset = 0; offset < 50; offset++) {
      const records = readAllChecked(f.log).filter((r) => r.offset >= offset)
      const { records: batch } = f.log.read(offset, 1)
      expect(readBatchHeader(batch, 0).lastOffset).toBeGreaterThanOrEqual(offset)
      expect(records[0]!.offset).toBeGreaterThanOrEqual(offset)
    }
    expect(show(readAllChecked(f.log))).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}=v${40 + i}@${40 + i}`))
  })

  it('compacts compressed batches and keeps their codec', async () => {
    await loadCodecs()
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      f.log.append(keyedBatch([{ key: 'a', value: compression }, { key: compression, value: '1' }], f.clock, { compression }))
    }
    f.log.roll()
    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toEqual(['gzip=1@1', 'snappy=1@3', 'lz4=1@5', 'a=zstd@6', 'zstd=1@7'])
    const { records } = f.log.read(0, 1 << 20)
    expect(readBatchHeader(records, 0).compression).toBe('gzip')
  })

  it('drops records without a key, as Kafka does', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    f.log.append(keyedBatch([{ key: null, value: 'x' }, { key: 'a', value: '1' }], f.clock))
    f.log.roll()
    await f.cleaner.runOnce()
    expect(show(readAllChecked(f.log))).toEqual(['a=1@1'])
  })

  it('writes the first dirty offset to cleaner-offset-checkpoint and starts the next round there', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024, minCleanableDirtyRatio: 0.01 })
    for (let i = 0; i < 4; i++) f.log.append(keyedBatch([{ key: `k${i}`, value: '1' }], f.clock))
    f.log.roll()
    await f.cleaner.runOnce()
    expect(f.fs.readFile('/d/cleaner-offset-checkpoint').toString()).toBe('0\n1\nt 0 4\n')
    expect(f.cleaner.describe(f.log, f.config).dirtyRatio).toBe(0)
    f.log.append(keyedBatch([{ key: 'k0', value: '2' }], f.clock))
    f.log.roll()
    const report = await f.cleaner.runOnce()
    expect(report.compactions[0]).toMatchObject({ firstDirtyOffset: 4, endOffset: 5, keysMapped: 1 })
    expect(show(readAllChecked(f.log))).toEqual(['k1=1@1', 'k2=1@2', 'k3=1@3', 'k0=2@4'])
  })

  it('describes each partition: state, dirty ratio, last clean time, bytes reclaimed', async () => {
    const f = await fixture({ segmentBytes: 1024 * 1024 })
    for (let i = 0; i < 4; i++) f.log.append(keyedBatch([{ key: 'k', value: `${i}` }], f.clock))
    f.log.roll()
    expect(f.cleaner.describe(f.log, f.config)).toMatchObject({ cleanerState: 'idle', dirtyRatio: 1, lastCleanTimeMs: null, bytesReclaimed: 0 })
    const before = f.log.size
    await f.cleaner.runOnce()
    const d = f.cleaner.describe(f.log, f.config)
    expect(d).toMatchObject({ cleanerState: 'idle', dirtyRatio: 0, lastCleanTimeMs: f.clock.now(), compactionRounds: 1 })
    expect(d.bytesReclaimed).toBe(before - f.log.size)
    expect(d.bytesReclaimed).toBeGreaterThan(0)
  })
})

describe('Cleaner > compaction in slices', () => {
  /** A log of 20,000 keys written twice (every seventh key's second record a tombstone), 100 per batch. */
  async function twiceWrittenLog(options: { sliceBudgetMs: number; yieldSlice: () => Promise<void> }) {
    // 8 MiB of map: a first region of 32 Ki slots, which 20,000 keys outgrow during the map phase.
    const f = await fixture({ segmentBytes: 64 * 1024 }, { dedupeBufferSize: 8 * 1024 * 1024, ...options })
    for (const version of ['v1', 'v2']) {
      for (let i = 0; i < 20_000; i += 100) {
        const records = Array.from({ length: 100 }, (_, j) => {
          const k = i + j
          return { key: `key-${k}`, value: version === 'v2' && k % 7 === 0 ? null : `${version}-${k}` }
        })
        f.log.append(keyedBatch(records, f.clock))
      }
    }
    f.log.roll()
    f.setConfig({ segmentBytes: 1024 * 1024 })
    return f
  }

  it('keeps the same records whether a round yields after every step (budget 0) or only between groups (no budget)', async () => {
    let yieldsSliced = 0
    const sliced = await twiceWrittenLog({ sliceBudgetMs: 0, yieldSlice: () => new Promise<void>((resolve) => setImmediate(() => resolve(void yieldsSliced++))) })
    let yieldsWhole = 0
    const whole = await twiceWrittenLog({ sliceBudgetMs: Infinity, yieldSlice: () => new Promise<void>((resolve) => setImmediate(() => resolve(void yieldsWhole++))) })

    const [slicedReport, wholeReport] = [await sliced.cleaner.runOnce(), await whole.cleaner.runOnce()]

    const rounds = slicedReport.compactions
    expect(rounds).toHaveLength(1)
    expect(rounds[0]!.mapFull).toBe(false)
    expect(wholeReport.compactions[0]!.segmentsAfter).toBe(rounds[0]!.segmentsAfter)
    // 400 batches mapped and 400 cleaned, each followed by a yield, plus the map's emptying and growth.
    expect(yieldsSliced).toBeGreaterThan(800)
    // Without a budget: one yield after each group's swap.
    expect(yieldsWhole).toBe(rounds[0]!.segmentsAfter)
    const kept = show(readAllChecked(sliced.log))
    expect(show(readAllChecked(whole.log))).toEqual(kept)
    const expected: string[] = []
    for (let k = 0; k < 20_000; k++) expected.push(`key-${k}=${k % 7 === 0 ? '✝' : `v2-${k}`}@${20_000 + k}`)
    expect(kept).toEqual(expected)
  })

  it('keeps the same records when large batches are mapped and filtered in parts (budget 0) as in one go', async () => {
    await loadCodecs()
    // Batches of 1,000 records: with a budget of 0 a visit stops every 256 records and resumes after a
    // yield. The gzip batch resumes from its inflated copy; tombstones take the delete-horizon rewrite.
    const cleanWith = async (sliceBudgetMs: number) => {
      let yields = 0
      const f = await fixture({ segmentBytes: 1024 * 1024 }, { sliceBudgetMs, yieldSlice: () => new Promise<void>((resolve) => setImmediate(() => resolve(void yields++))) })
      for (const version of ['v1', 'v2']) {
        for (let i = 0; i < 3000; i += 1000) {
          const records = Array.from({ length: 1000 }, (_, j) => {
            const k = i + j
            return { key: `key-${k}`, value: version === 'v2' && k % 7 === 0 ? null : `${version}-${k}` }
          })
          f.log.append(keyedBatch(records, f.clock, { compression: i === 1000 ? 'gzip' : 'none' }))
        }
      }
      f.log.roll()
      const report = await f.cleaner.runOnce()
      return { records: show(readAllChecked(f.log)), yields, groups: report.compactions[0]!.segmentsAfter }
    }

    const sliced = await cleanWith(0)
    const whole = await cleanWith(Infinity)

    // Six batches mapped and six filtered, each in four parts (three pauses each).
    expect(sliced.yields).toBeGreaterThanOrEqual(2 * 6 * 3)
    expect(whole.yields).toBe(whole.groups)
    expect(sliced.records).toEqual(whole.records)
    const expected: string[] = []
    for (let k = 0; k < 3000; k++) expected.push(`key-${k}=${k % 7 === 0 ? '✝' : `v2-${k}`}@${3000 + k}`)
    expect(sliced.records).toEqual(expected)
  })
})

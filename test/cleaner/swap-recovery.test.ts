/**
 * Recovery of an interrupted swap (storage/recovery.ts pass 1, cleaner/swap.ts), state by state:
 * - committed (no `.cleaned` left): each `.swap` segment replaces exactly the live segments in its
 *   offset range, including the old one with the same base offset, and nothing after that range;
 * - not committed (a `.cleaned` file left): every `.swap` at or above the lowest `.cleaned` offset is
 *   discarded with the `.cleaned` files, and the old segments stay.
 * The states are made by stopping a real compaction right after a chosen rename (process crash), or,
 * for multi-segment swaps the compactor does not make, by writing the files directly.
 */
import { describe, expect, it } from 'vitest'
import { CleanerManager } from '../../src/cleaner/cleaner-manager'
import { ManualClock } from '../../src/io/clock'
import type { MemoryFileSystem } from '../../src/io/memory-fs'
import { PartitionLog } from '../../src/storage/partition-log'
import { durableFs, keyedBatch, LOG_DIR, makeHost, readAllChecked, show, topicConfig } from './helpers'

const CONFIG = topicConfig({ segmentBytes: 200, durability: 'fsync', fileDeleteDelayMs: 0 })
const CLEAN = topicConfig({ segmentBytes: 100_000, durability: 'fsync', fileDeleteDelayMs: 0 })
const name = (base: number, suffix: string) => `${String(base).padStart(20, '0')}${suffix}`

/** Segments [0..3] a,b,a,b | [4..5] c,a | [6..7] d,d | active at 8: the cleaner rewrites 0..7 as one segment at 0. */
async function build(): Promise<{ fs: MemoryFileSystem; clock: ManualClock; log: PartitionLog }> {
  const clock = new ManualClock()
  const fs = await durableFs(clock)
  const log = await PartitionLog.open({ fs, clock, dir: LOG_DIR, topic: 't', partition: 0, config: CONFIG })
  const kv = (key: string, value: string) => ({ key, value })
  log.append(keyedBatch([kv('a', '1'), kv('b', '1')], clock))
  log.append(keyedBatch([kv('a', '2'), kv('b', '2')], clock))
  log.append(keyedBatch([kv('c', '1'), kv('a', '3')], clock))
  log.roll()
  log.append(keyedBatch([kv('d', '1'), kv('d', '2')], clock))
  log.roll()
  await log.flush()
  return { fs, clock, log }
}

async function reopen(fs: MemoryFileSystem, clock: ManualClock): Promise<PartitionLog> {
  return PartitionLog.open({ fs, clock, dir: LOG_DIR, topic: 't', partition: 0, config: CONFIG, hadCleanShutdown: false })
}

/** Runs a compaction and stops the process right after the first rename whose source matches. */
async function stopAfterRename(match: (from: string, to: string) => boolean): Promise<{ survivor: MemoryFileSystem; clock: ManualClock }> {
  const { fs, clock, log } = await build()
  const cleaner = new CleanerManager(makeHost(fs, clock, () => [{ log, config: CLEAN }]), { dedupeBufferSize: 64 * 1024 })
  const rename = fs.rename.bind(fs)
  let stopped = false
  fs.rename = (from, to) => {
    rename(from, to)
    if (!stopped && match(from, to)) {
      stopped = true
      fs.crashAtOp(1)
    }
  }
  await cleaner.runOnce().catch(() => undefined)
  expect(stopped).toBe(true)
  return { survivor: fs.processCrash(), clock }
}

describe('Cleaner > swap recovery', () => {
  it('completes a committed swap whose old segment with the same base offset was already renamed .deleted', async () => {
    const { survivor, clock } = await stopAfterRename((from) => from.endsWith(name(0, '.log')))
    expect(survivor.readdir(LOG_DIR)).toEqual(expect.arrayContaining([name(0, '.log.swap'), name(0, '.log.deleted'), name(4, '.log')]))
    const log = await reopen(survivor, clock)
    expect(log.segmentList.map((s) => s.baseOffset)).toEqual([0, 8])
    expect(show(readAllChecked(log))).toEqual(['b=2@3', 'c=1@4', 'a=3@5', 'd=2@7'])
    expect(log.recoveryReport.problems).toContain('completed an interrupted segment swap at 0 (offsets 0..7)')
  })

  it('completes a swap interrupted between its index and its .log renames, rebuilding the indexes', async () => {
    const { survivor, clock } = await stopAfterRename((from) => from.endsWith(name(0, '.index.swap')))
    expect(survivor.readdir(LOG_DIR)).toEqual(expect.arrayContaining([name(0, '.index'), name(0, '.log.swap'), name(0, '.log.deleted')]))
    const log = await reopen(survivor, clock)
    expect(log.segmentList.map((s) => s.baseOffset)).toEqual([0, 8])
    expect(show(readAllChecked(log))).toEqual(['b=2@3', 'c=1@4', 'a=3@5', 'd=2@7'])
    expect(log.segmentList[0]!.offsetIndex.entries + log.segmentList[0]!.timeIndex.entries).toBeGreaterThan(0)
  })

  it('rolls back a swap whose .cleaned → .swap renames did not finish', async () => {
    const { survivor, clock } = await stopAfterRename((from) => from.endsWith(name(0, '.index.cleaned')))
    expect(survivor.readdir(LOG_DIR)).toEqual(expect.arrayContaining([name(0, '.index.swap'), name(0, '.log.cleaned')]))
    const log = await reopen(survivor, clock)
    expect(log.segmentList.map((s) => s.baseOffset)).toEqual([0, 4, 6, 8])
    expect(readAllChecked(log)).toHaveLength(8)
    expect(survivor.readdir(LOG_DIR).filter((n) => /cleaned|swap/.test(n))).toEqual([])
  })

  it('discards every .swap at or above the lowest .cleaned offset of a multi-segment swap, and keeps the old segments', async () => {
    const { fs, clock, log } = await build()
    await log.close()
    // A swap of two new segments (at 0 and 6) renamed in descending order: 6 is .swap, 0 still .cleaned.
    copy(fs, [name(6, '.log')], name(6, '.log.swap'))
    copy(fs, [name(0, '.log')], name(0, '.log.cleaned'))
    const reopened = await reopen(fs, clock)
    expect(reopened.segmentList.map((s) => s.baseOffset)).toEqual([0, 4, 6, 8])
    expect(readAllChecked(reopened)).toHaveLength(8)
    expect(fs.readdir(LOG_DIR).filter((n) => /cleaned|swap/.test(n))).toEqual([])
  })

  it('completes each .swap of a committed multi-segment swap over exactly its own range', async () => {
    const { fs, clock, log } = await build()
    await log.close()
    // New segment at 0 covering [0..5] (the old 0 and 4 segments' range; the old 0 already .deleted
    // and gone), new segment at 6 covering [6..7] (the old 6 still live).
    copy(fs, [name(0, '.log'), name(4, '.log')], name(0, '.log.swap'))
    copy(fs, [name(6, '.log')], name(6, '.log.swap'))
    fs.unlink(`${LOG_DIR}/${name(0, '.log')}`)
    const reopened = await reopen(fs, clock)
    expect(reopened.segmentList.map((s) => s.baseOffset)).toEqual([0, 6, 8])
    expect(show(readAllChecked(reopened))).toEqual(['a=1@0', 'b=1@1', 'a=2@2', 'b=2@3', 'c=1@4', 'a=3@5', 'd=1@6', 'd=2@7'])
  })
})

/** Writes the concatenation of `from` files as `to`. */
function copy(fs: MemoryFileSystem, from: string[], to: string): void {
  const data = Buffer.concat(from.map((f) => fs.readFile(`${LOG_DIR}/${f}`)))
  const h = fs.open(`${LOG_DIR}/${to}`, 'rw')
  h.write(data, 0, data.length, 0)
  h.close()
}

/**
 * Crash safety of compaction: a crash at every mutating file-system operation of one cleaner pass.
 *
 * For each n from 1 to the number of mutating operations the pass makes (including the delayed unlink
 * of `.deleted` files and the cleaner checkpoint), a fresh file system gets the same fsynced log, the
 * file system stops the world at operation n (MemoryFileSystem.crashAtOp), and the log is reopened from
 * both what a machine crash leaves (un-fsynced data lost) and what a process crash leaves. Invariants:
 *   1. the reopened log is valid: every batch passes its CRC, offsets strictly increase;
 *   2. nothing is lost: every key's latest record is there, at its offset, with its value;
 *   3. nothing is invented: every record read is the record the original log had at that offset;
 *   4. the log end offset is unchanged, and the log takes appends after it.
 */
import { describe, expect, it } from 'vitest'
import { CleanerManager } from '../../src/cleaner/cleaner-manager'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem, SimulatedCrash } from '../../src/io/memory-fs'
import { PartitionLog } from '../../src/storage/partition-log'
import { durableFs, keyedBatch, LOG_DIR, makeHost, readAllChecked, topicConfig, type KV } from './helpers'

const DELETE_DELAY_MS = 1000
const APPEND_CONFIG = topicConfig({ segmentBytes: 250, durability: 'fsync', fileDeleteDelayMs: DELETE_DELAY_MS })
// Cleaning merges two or three old segments per group, so the pass makes several swaps.
const CLEAN_CONFIG = topicConfig({ segmentBytes: 600, durability: 'fsync', fileDeleteDelayMs: DELETE_DELAY_MS })

/** The input: 8 keys, repeated updates, tombstones, one compressed batch. */
function batches(): KV[][] {
  const out: KV[][] = []
  for (let i = 0; i < 18; i++) {
    const key = `k${(i * 5) % 8}`
    if (i % 7 === 6) out.push([{ key, value: null }])
    else if (i % 4 === 1) out.push([{ key, value: `v${i}a` }, { key: `k${(i + 3) % 8}`, value: `v${i}b` }])
    else out.push([{ key, value: `v${i}` }])
  }
  return out
}

interface Built {
  fs: MemoryFileSystem
  clock: ManualClock
  log: PartitionLog
  /** Every original record by offset: `key=value`. */
  original: Map<number, string>
}

async function build(): Promise<Built> {
  const clock = new ManualClock()
  const fs = await durableFs(clock)
  const log = await PartitionLog.open({ fs, clock, dir: LOG_DIR, topic: 't', partition: 0, config: APPEND_CONFIG })
  const original = new Map<number, string>()
  batches().forEach((records, i) => {
    const { baseOffset } = log.append(keyedBatch(records, clock, { compression: i === 5 ? 'gzip' : 'none' }))
    records.forEach((r, j) => original.set(baseOffset + j, `${r.key}=${r.value ?? '✝'}`))
  })
  log.roll()
  await log.flush()
  log.updateConfig(CLEAN_CONFIG)
  return { fs, clock, log, original }
}

function cleanerFor(b: Built): CleanerManager {
  return new CleanerManager(makeHost(b.fs, b.clock, () => [{ log: b.log, config: CLEAN_CONFIG }]), { dedupeBufferSize: 64 * 1024 })
}

/** Runs the pass and the delayed unlinks; returns whether the simulated crash stopped it. */
async function runPass(b: Built, cleaner: CleanerManager): Promise<boolean> {
  try {
    await cleaner.runOnce()
    b.clock.advance(DELETE_DELAY_MS)
  } catch (e) {
    if (e instanceof SimulatedCrash) return true
    throw e
  }
  // A crash inside the delayed unlink happens in a timer: the deleter reports it instead of throwing.
  return cleaner.backgroundErrors.some((e) => e instanceof SimulatedCrash)
}

function latestByKey(entries: Iterable<[number, string]>): Map<string, string> {
  const out = new Map<string, string>()
  for (const [offset, kv] of entries) out.set(kv.split('=')[0]!, `${kv}@${offset}`)
  return out
}

async function checkSurvivor(fs: MemoryFileSystem, clock: ManualClock, original: Map<number, string>, logEndOffset: number, label: string): Promise<void> {
  const log = await PartitionLog.open({ fs, clock, dir: LOG_DIR, topic: 't', partition: 0, config: CLEAN_CONFIG, hadCleanShutdown: false })
  const leftovers = fs.readdir(LOG_DIR).filter((n) => /\.(cleaned|swap|deleted)$/.test(n))
  expect(leftovers, `${label}: recovery leaves no temporary files`).toEqual([])
  const records = readAllChecked(log)
  const seen = new Map<number, string>()
  let previous = -1
  for (const r of records) {
    expect(r.offset, `${label}: offsets increase`).toBeGreaterThan(previous)
    previous = r.offset
    const kv = `${r.key!.toString()}=${r.value?.toString() ?? '✝'}`
    expect(kv, `${label}: record at ${r.offset} is the original one`).toBe(original.get(r.offset))
    seen.set(r.offset, kv)
  }
  expect(latestByKey(seen), `${label}: every key's latest record survives`).toEqual(latestByKey(original))
  expect(log.logEndOffset, `${label}: log end offset`).toBe(logEndOffset)
  expect(log.append(keyedBatch([{ key: 'after', value: 'crash' }], clock)).baseOffset).toBe(logEndOffset)
  await log.close()
}

describe('Cleaner > crash safety', () => {
  it('leaves the old log or the new one after a crash at any mutating operation of a compaction pass', async () => {
    const reference = await build()
    const logEndOffset = reference.log.logEndOffset
    const before = reference.fs.opCount()
    const cleaner = cleanerFor(reference)
    const report = await cleaner.runOnce()
    reference.clock.advance(DELETE_DELAY_MS)
    const operations = reference.fs.opCount() - before
    expect(report.compactions[0]!.segmentsBefore).toBeGreaterThan(report.compactions[0]!.segmentsAfter)
    expect(report.compactions[0]!.segmentsAfter).toBeGreaterThanOrEqual(2)
    expect(reference.fs.readdir(LOG_DIR).filter((n) => n.includes('.deleted') || n.includes('.swap') || n.includes('.cleaned'))).toEqual([])
    await checkSurvivor(reference.fs.processCrash(), reference.clock, reference.original, logEndOffset, 'no crash')

    for (let n = 1; n <= operations; n++) {
      const b = await build()
      const c = cleanerFor(b)
      b.fs.crashAtOp(n)
      expect(await runPass(b, c), `the pass reaches operation ${n}`).toBe(true)
      await checkSurvivor(b.fs.crash(), b.clock, b.original, logEndOffset, `machine crash at operation ${n}/${operations}`)
      await checkSurvivor(b.fs.processCrash(), b.clock, b.original, logEndOffset, `process crash at operation ${n}/${operations}`)
    }
  })
})

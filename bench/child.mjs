/**
 * Work that must run in a process of its own: building large logs, opening a data directory (a fresh
 * process, so nothing is cached in the heap), and scanning while sampling RSS (one process per
 * measurement, so heaps do not mix). Run by bench/lib/children.mjs through `fork`; the task arrives as
 * argv[2] (JSON) and the result goes back as one IPC message.
 */
import { floorAppend, floorScan } from './lib/floor.mjs'
import { buildLog, loadKafkalite, openWithTopic } from './lib/kafkalite.mjs'
import { makeRecordPool, recordsPerBatch } from './lib/records.mjs'
import { makeAdapters } from './lib/adapters.mjs'
import { readRecordsScan } from './lib/scan.mjs'
import { now } from './lib/stats.mjs'

const task = JSON.parse(process.argv[2])
const { kl, has } = await loadKafkalite()
const adapters = makeAdapters(kl, has)

const tasks = {
  /** A log of `count` records of V bytes; with `crash`, the process kills itself instead of closing. */
  async 'build-kafkalite'({ dir, valueBytes, count, crash }) {
    const batch = recordsPerBatch(valueBytes)
    const pool = makeRecordPool(valueBytes, batch * 64)
    const { db, partition } = await openWithTopic(kl, dir, { durability: 'none' })
    buildLog(kl, partition, pool, count, batch)
    if (partition.logEndOffset !== count) throw new Error(`built ${partition.logEndOffset} records, wanted ${count}`)
    if (crash) {
      // Like a power cut for the process (the page cache keeps the bytes): no close, no checkpoint,
      // no clean-shutdown marker. The parent sees the SIGKILL exit and carries on.
      process.kill(process.pid, 'SIGKILL')
    }
    await db.close()
    return { count, checksum: pool.expectedChecksum(count) }
  },

  async 'build-floor'({ path, valueBytes, count }) {
    const batch = recordsPerBatch(valueBytes)
    const pool = makeRecordPool(valueBytes, batch * 64)
    floorAppend(path, pool, count, batch, false)
    return { count, checksum: pool.expectedChecksum(count) }
  },

  /** Time of Kafkalite.open in a fresh process (the package is already imported), then a verified close. */
  async open({ dir, count }) {
    const start = now()
    const db = await kl.Kafkalite.open({ dir })
    const ms = now() - start
    const partition = db.topic('bench').partition(0)
    const end = partition.logEndOffset
    const report = db.openReport
    await db.close()
    if (end !== count) throw new Error(`opened a log ending at ${end}, expected ${count}`)
    return { ms, count: end, cleanShutdown: report.cleanShutdown }
  },

  /**
   * Scans the whole log through the consumer (Partition.readRecords before consumers existed),
   * sampling RSS after every poll; returns the peak and the verification.
   */
  async 'scan-rss'({ dir, count }) {
    const db = await kl.Kafkalite.open({ dir })
    const sampler = rssSampler()
    let s
    if (adapters.consumerScan) {
      s = await adapters.consumerScan(db, count, () => sampler.sample())
    } else {
      const partition = db.topic('bench').partition(0)
      const readRecords = partition.readRecords.bind(partition)
      // Sample inside the scan loop: the scan is synchronous, so a timer would never fire.
      partition.readRecords = (...args) => (sampler.sample(), readRecords(...args))
      s = readRecordsScan(partition)
    }
    sampler.sample()
    await db.close()
    return { ...s, peakRss: sampler.peak, baseRss: sampler.base, via: adapters.consumerScan ? 'consumer' : 'Partition.readRecords' }
  },

  async 'floor-scan-rss'({ path }) {
    const sampler = rssSampler()
    const s = floorScan(path)
    sampler.sample()
    return { ...s, peakRss: sampler.peak, baseRss: sampler.base }
  },
}

function rssSampler() {
  const base = process.memoryUsage.rss()
  const sampler = {
    base,
    peak: base,
    sample() {
      const rss = process.memoryUsage.rss()
      if (rss > sampler.peak) sampler.peak = rss
    },
  }
  return sampler
}

try {
  const out = await tasks[task.kind](task)
  process.send({ ok: true, result: out }, () => process.exit(0))
} catch (e) {
  process.send({ ok: false, error: e.stack ?? String(e) }, () => process.exit(1))
}

/**
 * Fixtures for producer tests: a small ProducerHost over PartitionLog.open and a MemoryFileSystem (so
 * the producer is tested without the engine, and a test can wrap a partition's log to inject failures
 * between a write and its acknowledgement, or reopen the logs as after a restart), a seeded PRNG, and
 * readers of what the logs hold.
 */
import { resolveTopicConfig, type TopicConfig, type TopicConfigInput } from '../../src/config/index'
import { KafkaliteError, ClosedError } from '../../src/errors/index'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import type { ProducerHost, ProducerIdAndEpoch, ProducerLog } from '../../src/producer/host'
import { Producer, type ProducerOptions } from '../../src/producer/producer'
import { PartitionLog } from '../../src/storage/partition-log'
import type { Record } from '../../src/codec/record-batch'
import { recordsIn } from '../helpers/storage'

export const T0 = 1_700_000_000_000
export const ROOT = '/d'

export interface TopicSpec {
  partitions: number
  config?: TopicConfigInput
}

export class FakeHost implements ProducerHost {
  readonly clock: ManualClock
  fs: MemoryFileSystem
  readonly logs = new Map<string, PartitionLog>()
  readonly configs = new Map<string, Readonly<TopicConfig>>()
  readonly partitions = new Map<string, number>()
  /** Replaces what `log()` returns (failure injection); the real log is passed in. */
  wrap: ((log: PartitionLog, topic: string, partition: number) => ProducerLog) | undefined
  closed = false
  nextProducerId = 0
  private readonly hooks: (() => Promise<void> | void)[] = []

  private constructor(fs: MemoryFileSystem, clock: ManualClock) {
    this.fs = fs
    this.clock = clock
  }

  static async create(topics: { [name: string]: TopicSpec }, fs = new MemoryFileSystem(), clock = new ManualClock(T0)): Promise<FakeHost> {
    const host = new FakeHost(fs, clock)
    fs.mkdirp(ROOT)
    await fs.syncDir('/')
    for (const [name, spec] of Object.entries(topics)) {
      host.configs.set(name, resolveTopicConfig(spec.config ?? {}))
      host.partitions.set(name, spec.partitions)
    }
    await host.openLogs()
    return host
  }

  /** Opens (or reopens) every partition log on `this.fs`. */
  async openLogs(): Promise<void> {
    this.logs.clear()
    for (const [topic, n] of this.partitions) {
      for (let p = 0; p < n; p++) {
        this.logs.set(
          `${topic}-${p}`,
          await PartitionLog.open({ fs: this.fs, clock: this.clock, dir: `${ROOT}/${topic}-${p}`, topic, partition: p, config: this.configs.get(topic)! }),
        )
      }
    }
  }

  /** A process crash and restart under the producer's feet: the logs are reopened on what survived. */
  async restartAfterProcessCrash(): Promise<void> {
    this.fs = this.fs.processCrash()
    await this.openLogs()
  }

  producer(options: ProducerOptions = {}, random?: () => number): Producer {
    return new Producer(this, options, random)
  }

  realLog(topic: string, partition: number): PartitionLog {
    const log = this.logs.get(`${topic}-${partition}`)
    if (log === undefined) throw new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', `Unknown ${topic}-${partition}`, { topic, partition })
    return log
  }

  // ---- ProducerHost ----

  ensureOpen(): void {
    if (this.closed) throw new ClosedError('Host')
  }

  partitionCount(topic: string): number {
    const n = this.partitions.get(topic)
    if (n === undefined) throw new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', `Unknown topic ${topic}`, { topic })
    return n
  }

  topicConfig(topic: string): Readonly<TopicConfig> {
    this.partitionCount(topic)
    return this.configs.get(topic)!
  }

  log(topic: string, partition: number): ProducerLog {
    const log = this.realLog(topic, partition)
    return this.wrap === undefined ? log : this.wrap(log, topic, partition)
  }

  allocateProducerId(): Promise<ProducerIdAndEpoch> {
    return Promise.resolve({ producerId: this.nextProducerId++, producerEpoch: 0 })
  }

  onClose(hook: () => Promise<void> | void): () => void {
    this.ensureOpen()
    this.hooks.push(hook)
    return () => {
      const i = this.hooks.indexOf(hook)
      if (i >= 0) this.hooks.splice(i, 1)
    }
  }

  get hookCount(): number {
    return this.hooks.length
  }

  async close(): Promise<void> {
    this.closed = true
    for (const hook of [...this.hooks].reverse()) await hook()
    for (const log of this.logs.values()) await log.close()
  }
}

/** Every record in a partition log up to its end (uncommitted included), with its offset. */
export function logRecords(log: PartitionLog): Record[] {
  const out: Record[] = []
  let next = log.logStartOffset
  while (next < log.logEndOffset) {
    const { records } = log.read(next, 1 << 20, { uncommitted: true })
    if (records.length === 0) break
    for (const r of recordsIn(records)) if (r.offset >= next) out.push(r)
    next = out[out.length - 1]!.offset + 1
  }
  return out
}

export function values(log: PartitionLog): (string | null)[] {
  return logRecords(log).map((r) => (r.value === null ? null : r.value.toString()))
}

/** Number of batches in a partition log. */
export function batchCount(log: PartitionLog): number {
  let n = 0
  let next = log.logStartOffset
  while (next < log.logEndOffset) {
    const { records } = log.read(next, 1 << 20, { uncommitted: true })
    let pos = 0
    while (pos < records.length) {
      const last = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23)
      if (last >= next) {
        n++
        next = last + 1
      }
      pos += 12 + records.readInt32BE(pos + 8)
    }
  }
  return n
}

/** A seeded PRNG returning floats in [0, 1) (mulberry32). */
export { mulberry32 as seededRandom } from '../helpers/random'

/** Lets pending promise callbacks (appends' fsyncs in memory, completions) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
  await new Promise((resolve) => setImmediate(resolve))
}

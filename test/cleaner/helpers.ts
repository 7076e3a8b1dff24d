/** Fixtures for cleaner tests: keyed batches, a partition log with a topic config, a cleaner host. */
import { encodeRecordBatch, decodeRecords, readLastOffset, validateBatch, type CompressionCodec, type Record } from '../../src/codec/record-batch'
import { resolveTopicConfig, type TopicConfig, type TopicConfigInput } from '../../src/config/topic-config'
import { CleanerManager, type CleanerHost, type CleanerOptions } from '../../src/cleaner/cleaner-manager'
import { ManualClock } from '../../src/io/clock'
import type { FileSystem } from '../../src/io/file-system'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { PartitionLog } from '../../src/storage/partition-log'

export const DATA_DIR = '/d'
export const LOG_DIR = '/d/t-0'

export interface KV {
  key: string | null
  value: string | null
  timestamp?: number
}

/** One batch of keyed records (the value null is a tombstone). */
export function keyedBatch(records: KV[], clock: ManualClock, options: { compression?: CompressionCodec; producerId?: number; baseSequence?: number } = {}): Buffer {
  return encodeRecordBatch({
    compression: options.compression ?? 'none',
    ...(options.producerId !== undefined && { producerId: options.producerId, producerEpoch: 0, baseSequence: options.baseSequence ?? 0 }),
    records: records.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: r.timestamp ?? clock.now(),
    })),
  })
}

export function topicConfig(input: TopicConfigInput = {}): Readonly<TopicConfig> {
  return resolveTopicConfig({ cleanupPolicy: 'compact', segmentBytes: 100, durability: 'none', ...input })
}

export interface Fixture {
  fs: MemoryFileSystem
  clock: ManualClock
  log: PartitionLog
  config: Readonly<TopicConfig>
  cleaner: CleanerManager
  host: CleanerHost
  /** Replaces the config the cleaner sees (and the log's). */
  setConfig(input: TopicConfigInput): void
}

export async function durableFs(clock: ManualClock): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ clock })
  fs.mkdirp(DATA_DIR)
  await fs.syncDir('/')
  return fs
}

export async function openLog(fs: FileSystem, clock: ManualClock, config: Readonly<TopicConfig>): Promise<PartitionLog> {
  return PartitionLog.open({ fs, clock, dir: LOG_DIR, topic: 't', partition: 0, config })
}

export function makeHost(fs: FileSystem, clock: ManualClock, current: () => { log: PartitionLog; config: Readonly<TopicConfig> }[]): CleanerHost {
  return { fs, clock, dataDir: DATA_DIR, logs: current }
}

export async function fixture(input: TopicConfigInput = {}, options: CleanerOptions = {}, clock = new ManualClock()): Promise<Fixture> {
  const fs = await durableFs(clock)
  let config = topicConfig(input)
  const log = await openLog(fs, clock, config)
  const host = makeHost(fs, clock, () => [{ log, config }])
  const cleaner = new CleanerManager(host, { dedupeBufferSize: 1024 * 1024, ...options })
  return {
    fs,
    clock,
    log,
    get config() {
      return config
    },
    cleaner,
    host,
    setConfig(change) {
      config = topicConfig({ ...input, ...change })
      log.updateConfig(config)
    },
  }
}

/** Appends each batch on its own (so that a tiny segmentBytes gives one segment per batch). */
export function appendAll(log: PartitionLog, batches: Buffer[]): void {
  for (const b of batches) log.append(b)
}

/** Every record readable from the log start to the high watermark, each batch CRC-checked. */
export function readAllChecked(log: PartitionLog): Record[] {
  const out: Record[] = []
  let next = log.logStartOffset
  while (next < log.highWatermark) {
    const { records } = log.read(next, 1 << 20)
    if (records.length === 0) break
    let last = next - 1
    for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) {
      validateBatch(records, pos)
      last = Math.max(last, readLastOffset(records, pos))
      for (const r of decodeRecords(records, pos, { maxDecompressedBytes: 1 << 26 })) if (r.offset >= next) out.push(r)
    }
    next = Math.max(next, last + 1)
  }
  return out
}

/** key=value@offset strings, for compact assertions. */
export function show(records: Record[]): string[] {
  return records.map((r) => `${r.key?.toString() ?? '∅'}=${r.value?.toString() ?? '✝'}@${r.offset}`)
}

/** The latest value per key in a list of records (tombstones delete). */
export function latestByKey(records: { key: string; value: string | null; offset: number }[]): Map<string, { value: string | null; offset: number }> {
  const out = new Map<string, { value: string | null; offset: number }>()
  for (const r of records) out.set(r.key, { value: r.value, offset: r.offset })
  return out
}

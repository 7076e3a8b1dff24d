/** Shared fixtures for storage tests: batch builders, file systems under test, and a log opener. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeRecords, encodeRecordBatch, type CompressionCodec, type Record } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import type { FileSystem } from '../../src/io/file-system'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { NodeFileSystem } from '../../src/io/node-fs'
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/log-config'
import { PartitionLog, type PartitionLogOptions } from '../../src/storage/partition-log'

export interface FsUnderTest {
  name: string
  make: () => { fs: FileSystem; root: string }
}

/** The contract suites run against both file systems. */
export const FILE_SYSTEMS: FsUnderTest[] = [
  { name: 'memory', make: () => ({ fs: new MemoryFileSystem(), root: '/data' }) },
  { name: 'node', make: () => ({ fs: new NodeFileSystem(), root: mkdtempSync(join(tmpdir(), 'kafkalite-')) }) },
]

export function batchOf(values: (string | null)[], options: { timestamp?: number; key?: string | null; compression?: CompressionCodec } = {}): Buffer {
  const ts = options.timestamp ?? 1_700_000_000_000
  return encodeRecordBatch({
    compression: options.compression ?? 'none',
    records: values.map((v, i) => ({
      key: options.key === null ? null : Buffer.from(options.key ?? `k${i}`),
      value: v === null ? null : Buffer.from(v),
      timestamp: ts + i,
    })),
  })
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, indexIntervalBytes: 4096, ...overrides }
}

export async function openLog(
  fs: FileSystem,
  dir: string,
  overrides: Omit<Partial<PartitionLogOptions>, 'config'> & { config?: Partial<LogConfig> } = {},
): Promise<PartitionLog> {
  const { config, ...rest } = overrides
  return PartitionLog.open({ fs, clock: new ManualClock(), dir, topic: 't', partition: 0, config: testConfig(config), ...rest })
}

/** All records in the returned batches, decoded. */
export function recordsIn(batches: Buffer): Record[] {
  const out: Record[] = []
  let pos = 0
  while (pos < batches.length) {
    out.push(...decodeRecords(batches, pos, { maxDecompressedBytes: 1 << 26 }))
    pos += 12 + batches.readInt32BE(pos + 8)
  }
  return out
}

/** Reads every committed record from `from` to the high watermark. */
export function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 1 << 20): Record[] {
  const out: Record[] = []
  let next = from
  while (next < log.highWatermark) {
    const { records } = log.read(next, maxBytes)
    if (records.length === 0) break
    for (const r of recordsIn(records)) if (r.offset >= next) out.push(r)
    next = out.length > 0 ? out[out.length - 1]!.offset + 1 : next
  }
  return out
}

/** An in-memory file system whose data root `/d` already exists durably (as a data directory would). */
export async function durableMemoryFs(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem()
  fs.mkdirp('/d')
  await fs.syncDir('/')
  return fs
}

/**
 * A log of millions of small records, on the real file system:
 *   - after a clean shutdown it opens without reading a byte of `.log` data (counted through the
 *     FileSystem port, not timed), and
 *   - memory stays flat while it is scanned from start to end (sampled after forced collections).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeRecords, encodeRecordBatch } from '../../src/codec/record-batch'
import { CountingFileSystem } from '../../src/io/counting-fs'
import { NodeFileSystem } from '../../src/io/node-fs'
import { openLog } from '../helpers/storage'

const RECORDS_PER_BATCH = 200
const BATCHES = 10_000 // 2,000,000 records
const CONFIG = { durability: 'none' as const, segmentBytes: 8 * 1024 * 1024 }

function liveBytes(): number {
  ;(globalThis as { gc?: () => void }).gc!()
  const m = process.memoryUsage()
  return m.heapUsed + m.external + m.arrayBuffers
}

describe('PartitionLog > a log of millions of records', () => {
  it('opens after a clean shutdown without reading .log data, and scans in flat memory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kafkalite-large-')), 't-0')
    const writer = await openLog(new NodeFileSystem(), dir, { config: CONFIG })
    const batch = encodeRecordBatch({
      records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: null, value: Buffer.from(`v${i % 10}`), timestamp: 1_700_000_000_000 })),
    })
    // append rewrites baseOffset in place (outside the CRC), so one encoded batch can be appended again and again.
    for (let i = 0; i < BATCHES; i++) writer.append(batch, { deepValidation: false })
    await writer.close()
    expect(writer.logEndOffset).toBe(RECORDS_PER_BATCH * BATCHES)
    expect(writer.segmentCount).toBeGreaterThan(2)

    const fs = new CountingFileSystem(new NodeFileSystem())
    const log = await openLog(fs, dir, { config: CONFIG, recoveryPoint: writer.recoveryPoint, hadCleanShutdown: true, cleanShutdownState: writer.cleanShutdownState })
    expect(fs.bytesRead('.log')).toBe(0)
    expect(log.logEndOffset).toBe(RECORDS_PER_BATCH * BATCHES)

    const samples: number[] = []
    let next = 0
    let count = 0
    let checksum = 0
    let nextSample = 400_000
    const before = liveBytes()
    while (next < log.highWatermark) {
      const { records } = log.read(next, 256 * 1024)
      for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) {
        for (const r of decodeRecords(records, pos, { maxDecompressedBytes: 1 << 20 })) {
          if (r.offset < next) continue
          count++
          checksum = (checksum + r.value![1]!) | 0
          next = r.offset + 1
        }
      }
      if (count >= nextSample) {
        samples.push(liveBytes() - before)
        nextSample += 400_000
      }
    }
    expect(count).toBe(RECORDS_PER_BATCH * BATCHES)
    expect(checksum).toBe(BATCHES * 20 * (48 + 49 + 50 + 51 + 52 + 53 + 54 + 55 + 56 + 57))
    expect(samples.length).toBeGreaterThanOrEqual(4)
    // The log is ~20 MB of data; a scan that retained what it read would grow by that much.
    expect(Math.max(...samples) - Math.min(...samples)).toBeLessThan(4 * 1024 * 1024)
    await log.close()
  }, 120_000)
})

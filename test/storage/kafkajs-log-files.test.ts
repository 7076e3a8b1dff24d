/**
 * The `.log` files kafkalite writes are Kafka's: kafkajs's RecordBatch decoder (with independent codecs)
 * reads every segment file of a partition written through PartitionLog, for all five codecs, and every
 * batch's CRC-32C checks. Offsets are the ones the log assigned; headers, null keys and null values
 * survive.
 */
import { describe, expect, it } from 'vitest'
import { loadCodecs } from '../../src/codec/compression/index'
import { encodeRecordBatch, type CompressionCodec } from '../../src/codec/record-batch'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { decodeLogFile } from '../helpers/kafkajs'
import { openLog } from '../helpers/storage'

const CODECS: CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

describe('Segment files > decode with kafkajs', () => {
  it.each(CODECS)('%s: every batch of every segment decodes with the assigned offsets and a valid CRC', async (compression) => {
    await loadCodecs()
    const fs = new MemoryFileSystem()
    const dir = '/d/t-0'
    const log = await openLog(fs, dir, { config: { durability: 'none', segmentBytes: 4000 } })
    const expected: { offset: number; key: string | null; value: string | null; header?: string }[] = []
    for (let b = 0; b < 30; b++) {
      const records = Array.from({ length: 5 }, (_, i) => ({
        key: i === 1 ? null : Buffer.from(`key-${b}-${i}`),
        value: i === 2 ? null : Buffer.from(`value-${b}-${i}-`.repeat(1 + (i % 3))),
        headers: i === 0 ? [{ key: 'trace', value: Buffer.from(`t${b}`) }] : [],
        timestamp: 1_700_000_000_000 + b * 10 + i,
      }))
      const { baseOffset } = log.append(encodeRecordBatch({ compression, records }))
      records.forEach((r, i) =>
        expected.push({
          offset: baseOffset + i,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          ...(i === 0 && { header: `t${b}` }),
        }),
      )
    }
    await log.close()
    const files = fs.readdir(dir).filter((n) => n.endsWith('.log'))
    expect(files.length).toBeGreaterThan(1)
    const seen: typeof expected = []
    for (const name of files) {
      const { batches, crcOk } = await decodeLogFile(fs.readFile(`${dir}/${name}`))
      expect(crcOk.every(Boolean)).toBe(true)
      expect(Number(batches[0]!.firstOffset)).toBe(Number(name.slice(0, 20)))
      for (const batch of batches) {
        for (const r of batch.records) {
          const header = r.headers.trace
          seen.push({
            offset: Number(r.offset),
            key: r.key?.toString() ?? null,
            value: r.value?.toString() ?? null,
            ...(header !== undefined && { header: String(header) }),
          })
        }
      }
    }
    expect(seen).toEqual(expected)
  })
})

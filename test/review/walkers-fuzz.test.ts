/**
 * Review probe: the three readers of the record layout (codec decodeRecords, append validation's
 * forEachRecordIn walk, the consumer's decodeBatch) must agree on every batch: the same records, and a
 * typed ERR_CORRUPT_RECORD (never another exception) for the same corrupt batches.
 */
import { describe, expect, it } from 'vitest'
import { decodeRecords, encodeRecordBatch, forEachRecordIn, RECORDS_OFFSET, ATTRIBUTES_OFFSET, CRC_OFFSET } from '../../src/codec/record-batch'
import { crc32c } from '../../src/codec/crc32c'
import { decodeBatch } from '../../src/consumer/record-decoder'
import { loadCodecs } from '../../src/codec/compression/index'
import { mulberry32 } from '../helpers/random'

function outcome(run: () => unknown): string {
  try {
    const v = run()
    return 'ok:' + JSON.stringify(v)
  } catch (e) {
    const code = (e as { code?: string }).code
    return code === 'ERR_CORRUPT_RECORD' ? 'corrupt' : `CRASH ${(e as Error).constructor.name}: ${(e as Error).message}`
  }
}

function randomBatch(rand: () => number, compression: 'none' | 'gzip' | 'lz4' | 'snappy' | 'zstd'): Buffer {
  const n = 1 + Math.floor(rand() * 5)
  const base = Math.floor(rand() * 2 ** 45)
  const records = []
  for (let i = 0; i < n; i++) {
    const bytes = (): Buffer | null => (rand() < 0.2 ? null : Buffer.alloc(Math.floor(rand() * 300), Math.floor(rand() * 256)))
    const headers = rand() < 0.5 ? [] : Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, h) => ({ key: `h${h}`, value: bytes() }))
    records.push({ key: bytes(), value: bytes(), headers, timestamp: base + Math.floor((rand() - 0.5) * 2 ** (rand() * 40)) })
  }
  return encodeRecordBatch({ compression, records })
}

const target = { topic: 't', partition: 0, context: {} }

describe('review: record walkers agree', () => {
  it('on valid batches: same offsets, timestamps, keys, values and headers', () => {
    const rand = mulberry32(1)
    for (let iter = 0; iter < 300; iter++) {
      const batch = randomBatch(rand, iter % 3 === 0 ? 'gzip' : 'none')
      const codec = decodeRecords(batch, 0, { maxDecompressedBytes: 1 << 24 })
      const consumer = decodeBatch(batch, 0, 0, 1 << 24, target)
      const walked: [number, number][] = []
      forEachRecordIn(batch, 0, { maxDecompressedBytes: 1 << 24 }, {}, (d, ts) => walked.push([d, ts]))
      expect(walked).toEqual(codec.map((r) => [r.offset, r.timestamp]))
      expect(consumer.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers])).toEqual(codec.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers]))
    }
  })

  it('on corrupted records sections (CRC fixed up): all typed, and the three agree', () => {
    const rand = mulberry32(2)
    const disagreements: string[] = []
    for (let iter = 0; iter < 10000; iter++) {
      const batch = randomBatch(rand, 'none')
      const flips = 1 + Math.floor(rand() * 3)
      for (let f = 0; f < flips; f++) {
        const at = RECORDS_OFFSET + Math.floor(rand() * (batch.length - RECORDS_OFFSET))
        batch[at] = rand() < 0.5 ? Math.floor(rand() * 256) : batch[at]! ^ (1 << Math.floor(rand() * 8))
      }
      batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET)
      const a = outcome(() => decodeRecords(batch, 0, { maxDecompressedBytes: 1 << 24 }).length)
      const b = outcome(() => forEachRecordIn(batch, 0, { maxDecompressedBytes: 1 << 24 }, {}, () => {}))
      const c = outcome(() => decodeBatch(batch, 0, Number.MIN_SAFE_INTEGER, 1 << 24, target).length)
      for (const o of [a, b, c]) expect(o.startsWith('CRASH'), o).toBe(false)
      if (a !== b || a !== c) disagreements.push(`${iter}: ${a} | ${b} | ${c}`)
    }
    expect(disagreements.slice(0, 5)).toEqual([])
  })

  it.each(['gzip', 'lz4', 'snappy', 'zstd'] as const)('on corrupted %s payloads (CRC fixed up): all typed, and the three agree', async (codec) => {
    await loadCodecs()
    const rand = mulberry32(3)
    const disagreements: string[] = []
    for (let iter = 0; iter < 1000; iter++) {
      const batch = randomBatch(rand, codec)
      const at = RECORDS_OFFSET + Math.floor(rand() * (batch.length - RECORDS_OFFSET))
      batch[at] = batch[at]! ^ (1 << Math.floor(rand() * 8))
      batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET)
      const a = outcome(() => decodeRecords(batch, 0, { maxDecompressedBytes: 1 << 24 }).length)
      const b = outcome(() => forEachRecordIn(batch, 0, { maxDecompressedBytes: 1 << 24 }, {}, () => {}))
      const c = outcome(() => decodeBatch(batch, 0, Number.MIN_SAFE_INTEGER, 1 << 24, target).length)
      for (const o of [a, b, c]) expect(o.startsWith('CRASH'), `${codec} ${iter}: ${o}`).toBe(false)
      if (a !== b || a !== c) disagreements.push(`${iter}: ${a} | ${b} | ${c}`)
    }
    expect(disagreements.slice(0, 5)).toEqual([])
  })
})

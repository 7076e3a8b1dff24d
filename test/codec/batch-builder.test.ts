/**
 * BatchBuilder writes each record into the batch as it is added and the header and CRC at build. The
 * invariants checked: its bytes equal encodeRecordBatch's for the same records and header fields
 * (uncompressed: byte for byte; compressed: the same header fields and records, as both compress the
 * same records section), whatever the key, value and header types (Buffer, Uint8Array, string, null)
 * and however the buffer grew; kafkajs (an independent decoder) reads what it builds, CRC included;
 * the size helpers agree with what is written; `records()` gives the records back for a split. The
 * randomized test prints its seed.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  BatchBuilder,
  maxRecordSizeInBatch,
  recordFieldsSize,
  recordSizeInBatch,
  type BuilderBytes,
  type BuilderHeader,
} from '../../src/codec/batch-builder'
import { loadCodecs, type CompressionCodec } from '../../src/codec/compression/index'
import { decodeRecords, encodeRecordBatch, readBatchHeader, RECORD_BATCH_OVERHEAD, validateBatch, type RecordInput } from '../../src/codec/record-batch'
import { decodeLogFile } from '../helpers/kafkajs'
import { mulberry32 } from '../helpers/random'

const T0 = 1_700_000_000_000
const UNLIMITED = { maxDecompressedBytes: 64 * 1024 * 1024 }

interface BuilderRecord {
  key: BuilderBytes
  value: BuilderBytes
  headers?: BuilderHeader[]
  timestamp: number
}

function asBuffer(bytes: BuilderBytes): Buffer | null {
  if (bytes === null) return null
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)
}

/** The same record as encodeRecordBatch takes it (Buffers only). */
function asInput(r: BuilderRecord): RecordInput {
  return {
    key: asBuffer(r.key),
    value: asBuffer(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: asBuffer(h.value) })),
    timestamp: r.timestamp,
  }
}

function build(records: BuilderRecord[], initialCapacity: number, options: Parameters<BatchBuilder['build']>[0] = {}): Buffer {
  const builder = new BatchBuilder(initialCapacity)
  for (const r of records) {
    const fieldsBytes = recordFieldsSize(r.key, r.value, r.headers)
    const before = builder.sizeInBytes
    const expected = builder.sizeOfNext(fieldsBytes, r.timestamp)
    builder.append(r.timestamp, r.key, r.value, r.headers, fieldsBytes)
    expect(builder.sizeInBytes - before).toBe(expected)
    expect(expected).toBeLessThanOrEqual(maxRecordSizeInBatch(fieldsBytes))
  }
  return builder.build(options)
}

function awkwardRecords(): BuilderRecord[] {
  return [
    {
      key: 'k0',
      value: new Uint8Array([1, 2, 3]),
      headers: [
        { key: 'h', value: Buffer.from('x') },
        { key: 'h', value: null },
        { key: 'ключ', value: 'значение' },
      ],
      timestamp: T0 + 10,
    },
    { key: null, value: 'no key, ünïcödé, a lone surrogate \ud800 and an emoji 😀', timestamp: T0 + 5 },
    { key: Buffer.from('tombstone'), value: null, timestamp: T0 - 1000 },
    { key: Buffer.alloc(0), value: '', timestamp: T0 + 2 ** 40 },
    { key: null, value: null, timestamp: 0 },
    { key: 'big', value: Buffer.alloc(70_000, 7), timestamp: T0 },
  ]
}

function randomRecords(random: () => number, count: number): BuilderRecord[] {
  const bytes = (): BuilderBytes => {
    const kind = Math.floor(random() * 4)
    const length = Math.floor(random() * (random() < 0.1 ? 3000 : 150))
    if (kind === 0) return null
    if (kind === 1) return 'é'.repeat(length >> 1)
    const b = Buffer.alloc(length)
    for (let i = 0; i < length; i++) b[i] = Math.floor(random() * 256)
    return kind === 2 ? b : new Uint8Array(b)
  }
  return Array.from({ length: count }, () => ({
    key: bytes(),
    value: bytes(),
    ...(random() < 0.3 && { headers: [{ key: `h${Math.floor(random() * 3)}`, value: bytes() }] }),
    timestamp: T0 + Math.floor((random() - 0.5) * 1e6),
  }))
}

beforeAll(async () => {
  await loadCodecs()
})

describe('BatchBuilder', () => {
  it('writes the bytes encodeRecordBatch writes, for every field type, also when its buffer grows', () => {
    const records = awkwardRecords()
    const expected = encodeRecordBatch({ records: records.map(asInput), producerId: 7, producerEpoch: 3, baseSequence: 41 })
    for (const capacity of [0, 100, 1 << 20]) {
      expect(build(records, capacity, { producerId: 7, producerEpoch: 3, baseSequence: 41 }).equals(expected), `capacity ${capacity}`).toBe(true)
    }
  })

  it('equals encodeRecordBatch on random records and header fields (seeded)', () => {
    const seed = Number(process.env.KAFKALITE_SEED ?? Date.now() % 1_000_000)
    console.log(`batch-builder seed ${seed} (KAFKALITE_SEED=${seed} to replay)`)
    const random = mulberry32(seed)
    for (let round = 0; round < 50; round++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 60))
      const ids = random() < 0.5 ? {} : { producerId: Math.floor(random() * 2 ** 40), producerEpoch: Math.floor(random() * 32768), baseSequence: Math.floor(random() * 2 ** 31) }
      const ours = build(records, Math.floor(random() * 4096), ids)
      const theirs = encodeRecordBatch({ records: records.map(asInput), ...ids })
      expect(ours.equals(theirs), `seed ${seed}, round ${round}`).toBe(true)
    }
  })

  it.each<CompressionCodec>(['gzip', 'snappy', 'lz4', 'zstd'])('a %s batch has the header and records encodeRecordBatch gives it', (compression) => {
    const records = awkwardRecords()
    const ours = build(records, 512, { compression, producerId: 1, producerEpoch: 0, baseSequence: 0 })
    const theirs = encodeRecordBatch({ records: records.map(asInput), compression, producerId: 1, producerEpoch: 0, baseSequence: 0 })
    validateBatch(ours, 0)
    const { crc: _ours, batchLength: _l1, sizeInBytes: _s1, ...ourHeader } = readBatchHeader(ours, 0)
    const { crc: _theirs, batchLength: _l2, sizeInBytes: _s2, ...theirHeader } = readBatchHeader(theirs, 0)
    expect(ourHeader).toEqual(theirHeader)
    expect(decodeRecords(ours, 0, UNLIMITED)).toEqual(decodeRecords(theirs, 0, UNLIMITED))
  })

  it('kafkajs reads what it builds, CRC included, with baseTimestamp the first record\'s and maxTimestamp the largest', async () => {
    const records = awkwardRecords()
    const batches = [build(records, 64), build(records, 64, { compression: 'gzip', producerId: 9, producerEpoch: 1, baseSequence: 5 })]
    const { batches: decoded, crcOk } = await decodeLogFile(Buffer.concat(batches))
    expect(crcOk).toEqual([true, true])
    for (const batch of decoded) {
      expect(batch.firstTimestamp).toBe(String(T0 + 10))
      expect(batch.maxTimestamp).toBe(String(T0 + 2 ** 40))
      expect(batch.lastOffsetDelta).toBe(records.length - 1)
      expect(batch.records.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual(
        records.map((r, i) => [String(i), String(r.timestamp), asBuffer(r.key), asBuffer(r.value)]),
      )
    }
    expect(decoded[1]!.producerId).toBe('9')
    expect(decoded[1]!.firstSequence).toBe(5)
  })

  it('records() gives back what was added, and build still returns the same batch afterwards', () => {
    const records = awkwardRecords()
    const builder = new BatchBuilder(256)
    for (const r of records) builder.append(r.timestamp, r.key, r.value, r.headers, recordFieldsSize(r.key, r.value, r.headers))
    const decoded = builder.records()
    expect(decoded.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual(records.map((r, i) => [i, r.timestamp, asBuffer(r.key), asBuffer(r.value)]))
    expect(decoded[0]!.headers).toEqual(asInput(records[0]!).headers)
    expect(builder.build().equals(encodeRecordBatch({ records: records.map(asInput) }))).toBe(true)
  })

  it('copies a batch closed well short of its buffer, so it does not pin the whole buffer', () => {
    const records = awkwardRecords().slice(0, 2)
    const batch = build(records, 1 << 20)
    expect(batch.buffer.byteLength).toBeLessThan(1 << 19)
    const full = build(records, batch.length)
    expect(full.equals(batch)).toBe(true)
  })

  it('sizes: a record alone takes recordSizeInBatch(fields, 0, 0) after the 61-byte header', () => {
    const fields = recordFieldsSize('key', Buffer.alloc(100), [{ key: 'h', value: null }])
    expect(fields).toBe(1 + 3 + 2 + 100 + 1 + 1 + 1 + 1)
    const builder = new BatchBuilder(0)
    builder.append(T0, 'key', Buffer.alloc(100), [{ key: 'h', value: null }], fields)
    expect(builder.sizeInBytes).toBe(RECORD_BATCH_OVERHEAD + recordSizeInBatch(fields, 0, 0))
  })

  it('a record that would take the batch past maxSize is refused and nothing changes', () => {
    const fields = recordFieldsSize('k', 'value', undefined)
    const builder = new BatchBuilder(0)
    expect(builder.append(T0, 'k', 'value', undefined, fields, 10)).toBe(false)
    expect(builder.recordCount).toBe(0)
    expect(builder.append(T0, 'k', 'value', undefined, fields)).toBe(true)
    const size = builder.sizeInBytes
    const next = builder.sizeOfNext(fields, T0 + 1)
    expect(builder.append(T0 + 1, 'k', 'value', undefined, fields, size + next - 1)).toBe(false)
    expect([builder.recordCount, builder.sizeInBytes]).toEqual([1, size])
    expect(builder.append(T0 + 1, 'k', 'value', undefined, fields, size + next)).toBe(true)
    expect(decodeRecords(builder.build(), 0, UNLIMITED).map((r) => r.timestamp)).toEqual([T0, T0 + 1])
  })

  it('a record whose fields do not take fieldsBytes is refused before the batch changes (our bug, an assertion)', () => {
    const builder = new BatchBuilder(0)
    expect(() => builder.append(T0, 'key', 'value', undefined, 3)).toThrow()
    builder.append(T0, 'k', 'v', undefined, recordFieldsSize('k', 'v', undefined))
    expect(decodeRecords(builder.build(), 0, UNLIMITED).map((r) => r.value!.toString())).toEqual(['v'])
  })
})

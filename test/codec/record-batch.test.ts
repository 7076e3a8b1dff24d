/**
 * RecordBatch v2: golden bytes (kafka-format.md §1.5 and §1.7, both decoded by kafkajs and kafka-python when
 * the reference was written), round trips for every codec, compaction artefacts, the reader's validations,
 * CRC coverage, and the in-place rewrites the log performs.
 */
import { createRequire } from 'node:module'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORD_BATCH_OVERHEAD,
  batchSizeAt,
  decodeEndTransactionMarker,
  decodeRecords,
  forEachRecordIn,
  encodeControlBatch,
  encodeRecordBatch,
  forEachBatch,
  readBaseOffset,
  readBatchHeader,
  readLastOffset,
  readMaxTimestamp,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
  type Record as BatchRecord,
  type RecordInput,
} from '../../src/codec/record-batch'
import { COMPRESSION_CODECS, loadCodecs } from '../../src/codec/compression/index'
import { expectSyncCode } from '../helpers/errors'

const require = createRequire(import.meta.url)
const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const UNLIMITED = { maxDecompressedBytes: 64 * 1024 * 1024 }
const T0 = 1700000000000

/** §1.7: kafkajs-encoded, decoded by kafkajs and kafka-python, CRC verified. */
const GOLDEN_DATA_BATCH = hex(`
  0000000000000000 00000049 00000000 02 97f4442a 0000 00000001
  0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002
  1c 00 00 00 04 6b31 04 7631 02 02 68 02 78
  10 00 0a 02 01 04 7632 00`)

/** §1.5: COMMIT marker, baseOffset 6, pid 1000, epoch 3, coordinatorEpoch 7, decoded by kafkajs and kafka-python. */
const GOLDEN_CONTROL_BATCH = hex(`
  0000000000000006 00000042 00000000 02 1fb1fa28 0030 00000000
  0000018bcfe56864 0000018bcfe56864 00000000000003e8 0003 ffffffff 00000001
  20 00 00 00 08 00000001 0c 000000000007 00`)

/** Re-signs a batch with kafkajs's CRC-32C after a test has edited CRC-covered bytes. */
function resign(batch: Buffer, pos = 0): Buffer {
  const size = LOG_OVERHEAD + batch.readInt32BE(pos + BATCH_LENGTH_OFFSET)
  batch.writeUInt32BE(kafkajsCrc32C(batch.subarray(pos + ATTRIBUTES_OFFSET, pos + size)), pos + CRC_OFFSET)
  return batch
}

/** A batch whose records section is replaced by `records` (raw bytes), with `count` records declared. */
function withRecordsSection(records: Buffer, count: number): Buffer {
  const header = encodeRecordBatch({ records: [], baseOffset: 100, baseTimestamp: T0, maxTimestamp: T0 })
  const batch = Buffer.concat([header, records])
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET)
  batch.writeInt32BE(count, RECORDS_COUNT_OFFSET)
  return resign(batch)
}

/** Records of every awkward shape: duplicate and UTF-8 header keys, null and empty keys and values, timestamps around the first. */
function awkwardRecords(): RecordInput[] {
  return [
    {
      key: Buffer.from('k0'),
      value: Buffer.from('v0'),
      headers: [
        { key: 'h', value: Buffer.from('x') },
        { key: 'h', value: null },
        { key: 'ключ', value: Buffer.from('значение') },
        { key: '', value: Buffer.alloc(0) },
      ],
      timestamp: T0 + 10,
    },
    { key: null, value: Buffer.from('no key'), timestamp: T0 + 5 },
    { key: Buffer.from('tombstone'), value: null, timestamp: T0 - 1000 },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 2 ** 40 },
    { key: null, value: null, timestamp: -5 },
  ]
}

/** Large enough that lz4 (64 KiB) and snappy (32 KiB) write several blocks. */
function largeRecords(count = 300): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${i % 37}`),
    value: Buffer.from(`value ${i} `.repeat(40 + (i % 50))),
    headers: i % 3 === 0 ? [{ key: 'trace', value: Buffer.from(`t${i}`) }] : [],
    timestamp: T0 + ((i * 7919) % 1000) - 500,
  }))
}

function normalize(records: Array<BatchRecord>): unknown[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('hex') })),
  }))
}

function expected(records: RecordInput[], baseOffset: number): unknown[] {
  return normalize(
    records.map((r, i) => ({
      offset: baseOffset + (r.offsetDelta ?? i),
      timestamp: r.timestamp,
      key: r.key,
      value: r.value,
      headers: r.headers ?? [],
    })),
  )
}

beforeAll(async () => {
  await loadCodecs()
})

describe('RecordBatch > layout', () => {
  it('derives the v2 field offsets: 0 8 12 16 17 21 23 27 35 43 51 53 57, header 61, log overhead 12', () => {
    expect([
      BASE_OFFSET_OFFSET,
      BATCH_LENGTH_OFFSET,
      PARTITION_LEADER_EPOCH_OFFSET,
      MAGIC_OFFSET,
      CRC_OFFSET,
      ATTRIBUTES_OFFSET,
      LAST_OFFSET_DELTA_OFFSET,
      BASE_TIMESTAMP_OFFSET,
      MAX_TIMESTAMP_OFFSET,
      PRODUCER_ID_OFFSET,
      PRODUCER_EPOCH_OFFSET,
      BASE_SEQUENCE_OFFSET,
      RECORDS_COUNT_OFFSET,
    ]).toEqual([0, 8, 12, 16, 17, 21, 23, 27, 35, 43, 51, 53, 57])
    expect(RECORD_BATCH_OVERHEAD).toBe(61)
    expect(LOG_OVERHEAD).toBe(12)
    expect(MAGIC).toBe(2)
  })
})

describe('RecordBatch > encode > golden bytes', () => {
  it('writes the §1.7 data batch byte for byte (CRC 97f4442a)', () => {
    const batch = encodeRecordBatch({
      partitionLeaderEpoch: 0,
      records: [
        { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: T0 },
        { key: null, value: Buffer.from('v2'), timestamp: T0 + 5 },
      ],
    })
    expect(batch.toString('hex')).toBe(GOLDEN_DATA_BATCH.toString('hex'))
  })

  it('writes the §1.5 COMMIT marker byte for byte (CRC 1fb1fa28)', () => {
    const batch = encodeControlBatch({
      type: 'COMMIT',
      baseOffset: 6,
      producerId: 1000,
      producerEpoch: 3,
      coordinatorEpoch: 7,
      timestamp: 0x18bcfe56864,
      partitionLeaderEpoch: 0,
    })
    expect(batch.length).toBe(78)
    expect(batch.toString('hex')).toBe(GOLDEN_CONTROL_BATCH.toString('hex'))
  })

  it('writes an ABORT marker with type 0 and no partition leader epoch by default', () => {
    const batch = encodeControlBatch({ type: 'ABORT', producerId: 5, producerEpoch: 0, coordinatorEpoch: 2, timestamp: T0 })
    const header = readBatchHeader(batch)
    expect(header.partitionLeaderEpoch).toBe(-1)
    expect(header.isControl && header.isTransactional).toBe(true)
    const [record] = decodeRecords(batch, 0, UNLIMITED)
    expect(record!.key!.toString('hex')).toBe('00000000')
    expect(decodeEndTransactionMarker(record!)).toEqual({ type: 'ABORT', coordinatorEpoch: 2 })
  })

  it('defaults baseTimestamp to the first record (not the minimum), as MemoryRecordsBuilder does', () => {
    const batch = encodeRecordBatch({ records: [{ key: null, value: null, timestamp: T0 + 10 }, { key: null, value: null, timestamp: T0 }] })
    const header = readBatchHeader(batch)
    expect(header.baseTimestamp).toBe(T0 + 10)
    expect(header.maxTimestamp).toBe(T0 + 10)
    // The second record: attributes 00, timestampDelta -10 (zigzag 13), offsetDelta 1, null key, null value, no headers.
    expect(batch.subarray(-6).toString('hex')).toBe('001302010100')
  })
})

describe('RecordBatch > decode > golden bytes', () => {
  it('reads the §1.7 header', () => {
    expect(readBatchHeader(GOLDEN_DATA_BATCH)).toEqual({
      baseOffset: 0,
      batchLength: 73,
      sizeInBytes: 85,
      partitionLeaderEpoch: 0,
      magic: 2,
      crc: 0x97f4442a,
      attributes: 0,
      compression: 'none',
      timestampType: 'CreateTime',
      isTransactional: false,
      isControl: false,
      hasDeleteHorizon: false,
      lastOffsetDelta: 1,
      lastOffset: 1,
      baseTimestamp: T0,
      maxTimestamp: T0 + 5,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      lastSequence: -1,
      recordsCount: 2,
    })
  })

  it('reads the §1.7 records', () => {
    expect(normalize(decodeRecords(GOLDEN_DATA_BATCH, 0, UNLIMITED))).toEqual([
      { offset: 0, timestamp: T0, key: '6b31', value: '7631', headers: [{ key: 'h', value: '78' }] },
      { offset: 1, timestamp: T0 + 5, key: null, value: '7632', headers: [] },
    ])
  })

  it('reads the §1.5 marker', () => {
    const header = readBatchHeader(GOLDEN_CONTROL_BATCH)
    expect(header).toMatchObject({ baseOffset: 6, lastOffset: 6, producerId: 1000, producerEpoch: 3, attributes: 0x30, recordsCount: 1 })
    const records = decodeRecords(GOLDEN_CONTROL_BATCH, 0, UNLIMITED)
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([[6, 0x18bcfe56864]])
    expect(decodeEndTransactionMarker(records[0]!)).toEqual({ type: 'COMMIT', coordinatorEpoch: 7 })
  })

  it('validates both golden batches', () => {
    validateBatch(GOLDEN_DATA_BATCH, 0)
    validateBatch(GOLDEN_CONTROL_BATCH, 0)
  })
})

describe('RecordBatch > round trip', () => {
  for (const codec of COMPRESSION_CODECS) {
    it(`${codec}: headers, null and empty keys and values, negative timestamp deltas`, () => {
      const records = awkwardRecords()
      const batch = encodeRecordBatch({ records, baseOffset: 42, compression: codec })
      validateBatch(batch, 0)
      const header = readBatchHeader(batch)
      expect(header.compression).toBe(codec)
      expect(header.attributes & 0x07).toBe(COMPRESSION_CODECS.indexOf(codec))
      expect(header.recordsCount).toBe(records.length)
      expect(header.maxTimestamp).toBe(T0 + 2 ** 40)
      expect(normalize(decodeRecords(batch, 0, UNLIMITED))).toEqual(expected(records, 42))
    })

    it(`${codec}: a batch larger than 64 KiB`, () => {
      const records = largeRecords()
      const batch = encodeRecordBatch({ records, baseOffset: 1000, compression: codec })
      validateBatch(batch, 0)
      const raw = encodeRecordBatch({ records })
      expect(raw.length).toBeGreaterThan(64 * 1024 * 2)
      if (codec !== 'none') expect(batch.length).toBeLessThan(raw.length / 4)
      expect(normalize(decodeRecords(batch, 0, UNLIMITED))).toEqual(expected(records, 1000))
    })
  }

  it('keeps producer fields, and computes lastSequence with Kafka’s wrap-around', () => {
    const batch = encodeRecordBatch({
      records: largeRecords(4),
      producerId: 2 ** 40 + 3,
      producerEpoch: 32767,
      baseSequence: 2147483646,
      isTransactional: true,
      partitionLeaderEpoch: 9,
    })
    expect(readBatchHeader(batch)).toMatchObject({
      producerId: 2 ** 40 + 3,
      producerEpoch: 32767,
      baseSequence: 2147483646,
      lastOffsetDelta: 3,
      lastSequence: 1, // 2147483646 + 3 wraps past int32 max to 0
      isTransactional: true,
      isControl: false,
      partitionLeaderEpoch: 9,
    })
  })

  it('returns zero-copy views of the input buffer for uncompressed batches', () => {
    const batch = encodeRecordBatch({ records: [{ key: Buffer.from('key'), value: Buffer.from('value'), timestamp: T0 }] })
    const [record] = decodeRecords(batch, 0, UNLIMITED)
    expect(record!.value!.buffer).toBe(batch.buffer)
    batch[batch.length - 2] = 'E'.charCodeAt(0) // the last value byte is the one before the header count
    expect(record!.value!.toString()).toBe('valuE')
  })

  it('decodes a batch at a non-zero position in a larger buffer', () => {
    const records = awkwardRecords()
    const batch = encodeRecordBatch({ records, baseOffset: 7, compression: 'lz4' })
    const buf = Buffer.concat([Buffer.alloc(13, 0xee), batch, Buffer.alloc(5, 0xee)])
    validateBatch(buf, 13)
    expect(normalize(decodeRecords(buf, 13, UNLIMITED))).toEqual(expected(records, 7))
  })
})

describe('RecordBatch > compaction artefacts', () => {
  it('keeps offset gaps inside a batch, and lastOffsetDelta past the last record', () => {
    const records: RecordInput[] = [
      { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: T0, offsetDelta: 0 },
      { key: Buffer.from('c'), value: Buffer.from('3'), timestamp: T0 + 2, offsetDelta: 2 },
      { key: Buffer.from('f'), value: null, timestamp: T0 + 5, offsetDelta: 5 },
    ]
    for (const codec of COMPRESSION_CODECS) {
      const batch = encodeRecordBatch({ records, baseOffset: 50, lastOffsetDelta: 9, compression: codec })
      expect(readBatchHeader(batch)).toMatchObject({ lastOffsetDelta: 9, lastOffset: 59, recordsCount: 3 })
      expect(readLastOffset(batch, 0)).toBe(59)
      expect(decodeRecords(batch, 0, UNLIMITED).map((r) => r.offset)).toEqual([50, 52, 55])
    }
  })

  it('reads an empty batch (0 records) that preserves its offsets and sequences', () => {
    const batch = encodeRecordBatch({ records: [], baseOffset: 10, lastOffsetDelta: 4, producerId: 7, producerEpoch: 1, baseSequence: 20, compression: 'zstd' })
    expect(batch.length).toBe(RECORD_BATCH_OVERHEAD)
    validateBatch(batch, 0)
    expect(readBatchHeader(batch)).toMatchObject({ recordsCount: 0, lastOffset: 14, lastSequence: 24, baseTimestamp: -1, maxTimestamp: -1, compression: 'zstd' })
    expect(decodeRecords(batch, 0, UNLIMITED)).toEqual([])
  })

  it('stores the delete horizon in baseTimestamp with attribute bit 6, and record timestamps stay exact', () => {
    const records = awkwardRecords()
    const batch = encodeRecordBatch({ records, deleteHorizonMs: T0 + 86_400_000, compression: 'gzip' })
    const header = readBatchHeader(batch)
    expect(header.hasDeleteHorizon).toBe(true)
    expect(header.attributes & 0x40).toBe(0x40)
    expect(header.baseTimestamp).toBe(T0 + 86_400_000)
    expect(normalize(decodeRecords(batch, 0, UNLIMITED))).toEqual(expected(records, 0))
  })
})

describe('RecordBatch > validateBatch', () => {
  const batch = encodeRecordBatch({ records: awkwardRecords(), baseOffset: 3, partitionLeaderEpoch: 1 })

  it('detects a flipped byte anywhere in [21, end), the CRC-covered range', () => {
    for (let i = ATTRIBUTES_OFFSET; i < batch.length; i++) {
      const corrupt = Buffer.from(batch)
      corrupt[i]! ^= 0x10
      expectSyncCode(() => validateBatch(corrupt, 0), 'ERR_CORRUPT_RECORD')
    }
  })

  it('detects a flipped byte in the compressed records of every codec', () => {
    for (const codec of COMPRESSION_CODECS) {
      const compressed = encodeRecordBatch({ records: largeRecords(50), compression: codec })
      for (const i of [ATTRIBUTES_OFFSET, RECORDS_COUNT_OFFSET + 3, RECORD_BATCH_OVERHEAD, Math.floor(compressed.length / 2), compressed.length - 1]) {
        const corrupt = Buffer.from(compressed)
        corrupt[i]! ^= 0x01
        expectSyncCode(() => validateBatch(corrupt, 0), 'ERR_CORRUPT_RECORD')
      }
    }
  })

  it('says what the CRC should have been and what was computed', () => {
    const corrupt = Buffer.from(batch)
    corrupt[corrupt.length - 1]! ^= 0xff
    const error = expectSyncCode(() => validateBatch(corrupt, 0, { topic: 'orders', partition: 2 }), 'ERR_CORRUPT_RECORD')
    const stored = batch.readUInt32BE(CRC_OFFSET).toString(16).padStart(8, '0')
    const computed = kafkajsCrc32C(corrupt.subarray(ATTRIBUTES_OFFSET)).toString(16).padStart(8, '0')
    expect(error.message).toContain(`expected 0x${stored}`)
    expect(error.message).toContain(`computed 0x${computed}`)
    expect(error).toMatchObject({ topic: 'orders', partition: 2 })
    expect(error.context).toMatchObject({ position: 0, baseOffset: 3 })
  })

  it('does not cover baseOffset or partitionLeaderEpoch', () => {
    for (const i of [BASE_OFFSET_OFFSET, BASE_OFFSET_OFFSET + 7, PARTITION_LEADER_EPOCH_OFFSET, PARTITION_LEADER_EPOCH_OFFSET + 3]) {
      const edited = Buffer.from(batch)
      edited[i]! ^= 0x01
      validateBatch(edited, 0)
    }
  })

  it('rejects every truncation of the batch', () => {
    for (let length = 0; length < batch.length; length++) {
      expectSyncCode(() => validateBatch(batch.subarray(0, length), 0), 'ERR_CORRUPT_RECORD')
    }
  })

  it('rejects a batchLength below the 49-byte minimum, and a magic other than 2', () => {
    const short = Buffer.from(batch)
    short.writeInt32BE(48, BATCH_LENGTH_OFFSET)
    expect(expectSyncCode(() => validateBatch(short, 0), 'ERR_CORRUPT_RECORD').message).toMatch(/minimum/)
    const magic1 = Buffer.from(batch)
    magic1[MAGIC_OFFSET] = 1
    expect(expectSyncCode(() => validateBatch(magic1, 0), 'ERR_CORRUPT_RECORD').message).toMatch(/magic 1/)
  })
})

describe('RecordBatch > rewrites in place', () => {
  it('setBaseOffset moves every record offset without touching the CRC', () => {
    const batch = encodeRecordBatch({ records: awkwardRecords(), compression: 'snappy' })
    const crc = batch.readUInt32BE(CRC_OFFSET)
    setBaseOffset(batch, 0, 2 ** 40)
    expect(batch.readUInt32BE(CRC_OFFSET)).toBe(crc)
    validateBatch(batch, 0)
    expect(readBaseOffset(batch, 0)).toBe(2 ** 40)
    expect(readLastOffset(batch, 0)).toBe(2 ** 40 + 4)
    expect(decodeRecords(batch, 0, UNLIMITED).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4].map((d) => 2 ** 40 + d))
  })

  it('setPartitionLeaderEpoch stamps the epoch without touching the CRC', () => {
    const batch = encodeRecordBatch({ records: awkwardRecords() })
    setPartitionLeaderEpoch(batch, 0, 12)
    validateBatch(batch, 0)
    expect(readBatchHeader(batch).partitionLeaderEpoch).toBe(12)
  })

  for (const codec of COMPRESSION_CODECS) {
    it(`setLogAppendTime (${codec}) re-signs the batch and gives every record the new timestamp`, () => {
      const batch = encodeRecordBatch({ records: awkwardRecords(), baseOffset: 5, compression: codec })
      setLogAppendTime(batch, 0, T0 + 999_999)
      validateBatch(batch, 0)
      expect(readBatchHeader(batch)).toMatchObject({ timestampType: 'LogAppendTime', maxTimestamp: T0 + 999_999, compression: codec })
      expect(readMaxTimestamp(batch, 0)).toBe(T0 + 999_999)
      const records = decodeRecords(batch, 0, UNLIMITED)
      expect(records).toHaveLength(5)
      expect(records.every((r) => r.timestamp === T0 + 999_999)).toBe(true)
    })
  }

  it('setLogAppendTime keeps the other attribute bits and clears the undefined ones, as computeAttributes does', () => {
    const batch = encodeRecordBatch({ records: awkwardRecords(), compression: 'gzip', isTransactional: true, deleteHorizonMs: T0 })
    batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | 0x0100, ATTRIBUTES_OFFSET)
    setLogAppendTime(batch, 0, T0)
    expect(batch.readInt16BE(ATTRIBUTES_OFFSET)).toBe(0x01 | 0x08 | 0x10 | 0x40)
  })

  it('the timestampType input writes LOG_APPEND_TIME directly', () => {
    const batch = encodeRecordBatch({ records: awkwardRecords(), timestampType: 'LogAppendTime', maxTimestamp: T0 + 1 })
    expect(readBatchHeader(batch).attributes).toBe(0x08)
    expect(decodeRecords(batch, 0, UNLIMITED).map((r) => r.timestamp)).toEqual(Array(5).fill(T0 + 1))
  })
})

describe('RecordBatch > walking a log buffer', () => {
  const batches = [
    encodeRecordBatch({ records: awkwardRecords(), baseOffset: 0 }),
    encodeRecordBatch({ records: largeRecords(20), baseOffset: 5, compression: 'lz4' }),
    encodeControlBatch({ type: 'COMMIT', producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: T0, baseOffset: 25 }),
  ]
  const log = Buffer.concat(batches)

  it('visits each complete batch and returns the bytes consumed', () => {
    const seen: Array<[number, number]> = []
    expect(forEachBatch(log, (pos, size) => seen.push([pos, size]))).toBe(log.length)
    expect(seen).toEqual([
      [0, batches[0]!.length],
      [batches[0]!.length, batches[1]!.length],
      [batches[0]!.length + batches[1]!.length, batches[2]!.length],
    ])
    expect(seen.map(([pos]) => readBaseOffset(log, pos))).toEqual([0, 5, 25])
  })

  it('stops before a partial tail, whether or not its size field is complete', () => {
    for (const tail of [1, 11, 12, 60, batches[2]!.length - 1]) {
      const partial = log.subarray(0, batches[0]!.length + batches[1]!.length + tail)
      let calls = 0
      expect(forEachBatch(partial, () => calls++)).toBe(batches[0]!.length + batches[1]!.length)
      expect(calls).toBe(2)
    }
  })

  it('throws on a batch that declares fewer than 61 bytes instead of looping', () => {
    const bad = Buffer.from(log)
    bad.writeInt32BE(0, batches[0]!.length + BATCH_LENGTH_OFFSET)
    expectSyncCode(() => forEachBatch(bad, () => {}), 'ERR_CORRUPT_RECORD')
  })

  it('batchSizeAt needs 12 bytes and checks nothing else', () => {
    expect(batchSizeAt(log, 0)).toBe(batches[0]!.length)
    expect(batchSizeAt(log.subarray(0, 11), 0)).toBe(-1)
    expect(batchSizeAt(log.subarray(0, 12), 0)).toBe(batches[0]!.length)
  })
})

describe('RecordBatch > decodeRecords rejects what Kafka’s reader rejects', () => {
  const valid = hex('10 00 00 00 02 6b 02 76 00') // one 8-byte record: key "k", value "v", no headers

  it('accepts the hand-written record the cases below start from', () => {
    expect(normalize(decodeRecords(withRecordsSection(valid, 1), 0, UNLIMITED))).toEqual([
      { offset: 100, timestamp: T0, key: '6b', value: '76', headers: [] },
    ])
  })

  const cases: Array<[string, Buffer, number]> = [
    ['a record whose fields do not fill its declared length', hex('12 00 00 00 02 6b 02 76 00 00'), 1],
    ['a negative header count', hex('10 00 00 00 02 6b 02 76 01'), 1],
    ['a header count larger than the bytes left', hex('10 00 00 00 02 6b 02 76 0a'), 1],
    ['a negative header key length', hex('16 00 00 00 02 6b 02 76 02 01 02 78'), 1],
    ['bytes left after the last record ("Incorrect declared batch size")', Buffer.concat([valid, hex('00')]), 1],
    ['more records declared than present', valid, 2],
    ['a negative record count', valid, -1],
    ['a record length past the end of the batch', hex('7e 00 00 00 02 6b 02 76 00'), 1],
    ['a key length past the end of the record', hex('10 00 00 00 0a 6b 02 76 00'), 1],
    ['a varint that runs past its record', hex('02 00'), 1],
  ]
  for (const [name, records, count] of cases) {
    it(name, () => {
      const batch = withRecordsSection(records, count)
      validateBatch(batch, 0) // the CRC is fine: only the record structure is wrong
      const error = expectSyncCode(() => decodeRecords(batch, 0, UNLIMITED, { topic: 't', partition: 0 }), 'ERR_CORRUPT_RECORD')
      expect(error.topic).toBe('t')
    })
    it(`${name}: forEachRecordIn (the append-time walk) rejects it too`, () => {
      const batch = withRecordsSection(records, count)
      const error = expectSyncCode(() => forEachRecordIn(batch, 0, UNLIMITED, { topic: 't', partition: 0 }, () => {}), 'ERR_CORRUPT_RECORD')
      expect(error.topic).toBe('t')
    })
  }

  it('forEachRecordIn visits every record with the offset delta and timestamp decodeRecords gives it', () => {
    for (const compression of ['none', 'gzip', 'lz4'] as const) {
      const batch = encodeRecordBatch({ records: largeRecords(5), baseOffset: 40, compression })
      const seen: Array<[number, number]> = []
      expect(forEachRecordIn(batch, 0, UNLIMITED, {}, (delta, timestamp) => seen.push([delta, timestamp]))).toBe(5)
      expect(seen).toEqual(decodeRecords(batch, 0, UNLIMITED).map((r) => [r.offset - 40, r.timestamp]))
    }
  })

  it('rejects an offset beyond Number.MAX_SAFE_INTEGER instead of rounding it', () => {
    const batch = encodeRecordBatch({ records: largeRecords(3), baseOffset: Number.MAX_SAFE_INTEGER - 1 })
    expect(expectSyncCode(() => decodeRecords(batch, 0, UNLIMITED), 'ERR_CORRUPT_RECORD').message).toMatch(/2\^53/)
    batch.writeUInt32BE(0x00400000, BASE_OFFSET_OFFSET) // baseOffset 2^54
    expectSyncCode(() => readBaseOffset(batch, 0), 'ERR_CORRUPT_RECORD')
    expectSyncCode(() => readBatchHeader(batch), 'ERR_CORRUPT_RECORD')
  })

  it('rejects an unknown compression codec id', () => {
    const batch = encodeRecordBatch({ records: largeRecords(2) })
    batch.writeInt16BE(5, ATTRIBUTES_OFFSET)
    resign(batch)
    expectSyncCode(() => decodeRecords(batch, 0, UNLIMITED), 'ERR_CORRUPT_RECORD')
    expectSyncCode(() => readBatchHeader(batch), 'ERR_CORRUPT_RECORD')
  })

  it('rejects a header shorter than 61 bytes', () => {
    expectSyncCode(() => readBatchHeader(GOLDEN_DATA_BATCH.subarray(0, 60)), 'ERR_CORRUPT_RECORD')
    expectSyncCode(() => decodeRecords(GOLDEN_DATA_BATCH.subarray(0, 84), 0, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })
})

describe('RecordBatch > decodeRecords bounds decompression', () => {
  const records = Array.from({ length: 64 }, (_, i) => ({ key: null, value: Buffer.alloc(16 * 1024), timestamp: T0 + i }))
  for (const codec of COMPRESSION_CODECS.filter((c) => c !== 'none')) {
    it(`${codec}: records that inflate past maxDecompressedBytes throw ERR_DECOMPRESSION_LIMIT`, () => {
      const batch = encodeRecordBatch({ records, compression: codec, baseOffset: 77 })
      expect(batch.length).toBeLessThan(64 * 1024)
      expect(decodeRecords(batch, 0, { maxDecompressedBytes: 2 * 1024 * 1024 })).toHaveLength(64)
      const error = expectSyncCode(() => decodeRecords(batch, 0, { maxDecompressedBytes: 256 * 1024 }, { topic: 't' }), 'ERR_DECOMPRESSION_LIMIT')
      expect(error.context).toMatchObject({ codec, maxBytes: 256 * 1024, topic: 't', baseOffset: 77 })
    })

    it(`${codec}: garbage in place of the compressed records is ERR_CORRUPT_RECORD`, () => {
      const batch = encodeRecordBatch({ records: largeRecords(5), compression: codec })
      batch.fill(0xa5, RECORD_BATCH_OVERHEAD + 8)
      resign(batch)
      expectSyncCode(() => decodeRecords(batch, 0, UNLIMITED), 'ERR_CORRUPT_RECORD')
    })
  }
})

describe('RecordBatch > encode rejects invalid input', () => {
  const one = (r: Partial<RecordInput>): RecordInput[] => [{ key: null, value: null, timestamp: T0, ...r }]
  const cases: Array<[string, () => unknown]> = [
    ['offset deltas that do not increase', () => encodeRecordBatch({ records: [...one({ offsetDelta: 1 }), ...one({ offsetDelta: 1 })] })],
    ['a negative offset delta', () => encodeRecordBatch({ records: one({ offsetDelta: -1 }) })],
    ['a lastOffsetDelta below the last record', () => encodeRecordBatch({ records: one({ offsetDelta: 3 }), lastOffsetDelta: 2 })],
    ['a fractional timestamp', () => encodeRecordBatch({ records: one({ timestamp: 1.5 }) })],
    ['a negative baseOffset', () => encodeRecordBatch({ records: one({}), baseOffset: -1 })],
    ['a producer epoch beyond int16', () => encodeRecordBatch({ records: one({}), producerEpoch: 40000 })],
    ['a value that is not a Buffer', () => encodeRecordBatch({ records: one({ value: 'text' as unknown as Buffer }) })],
    ['an unknown codec', () => encodeRecordBatch({ records: one({}), compression: 'brotli' as 'none' })],
    ['baseTimestamp and deleteHorizonMs that disagree', () => encodeRecordBatch({ records: one({}), baseTimestamp: 1, deleteHorizonMs: 2 })],
  ]
  for (const [name, fn] of cases) it(name, () => expectSyncCode(fn, 'ERR_INVALID_ARGUMENT'))

  it('decodeEndTransactionMarker rejects a control record of another type', () => {
    const record: BatchRecord = { offset: 1, timestamp: 0, key: hex('00000002'), value: hex('000000000000'), headers: [] }
    expectSyncCode(() => decodeEndTransactionMarker(record), 'ERR_CORRUPT_RECORD')
  })
})

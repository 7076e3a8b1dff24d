/**
 * An independent decoder reads what we write: kafkajs 2.2.4's RecordBatch decoder (kafka-format.md §5.1)
 * decodes a `.log`-style buffer of our batches, one per codec plus a transaction marker, a LOG_APPEND_TIME
 * batch and a compacted batch, back to back with increasing baseOffsets. kafkajs does not check CRCs, so
 * each batch's CRC is checked with kafkajs's own CRC-32C. The decompressors handed to kafkajs are
 * independent of ours: zlib (built in), snappyjs (kafkajs-snappy), lz4js, fzstd.
 *
 * The other direction: batches written by kafkajs's encoder are read by our decoder.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LOG_OVERHEAD,
  decodeRecords,
  encodeControlBatch,
  encodeRecordBatch,
  forEachBatch,
  setLogAppendTime,
  validateBatch,
  type BatchInput,
  type RecordInput,
} from '../../src/codec/record-batch'
import { loadCodecs } from '../../src/codec/compression/index'
import {
  CompressionTypes,
  Decoder,
  KafkajsRecord,
  KafkajsRecordBatch,
  Long,
  decodeRecordBatch,
  kafkajsCrc32C,
} from '../helpers/kafkajs'

const T0 = 1700000000000
const UNLIMITED = { maxDecompressedBytes: 64 * 1024 * 1024 }

function awkwardRecords(): RecordInput[] {
  return [
    {
      key: Buffer.from('k0'),
      value: Buffer.from('v0'),
      headers: [
        { key: 'h', value: Buffer.from('x') },
        { key: 'h', value: null },
        { key: 'ключ', value: Buffer.from('значение') },
      ],
      timestamp: T0 + 10,
    },
    { key: null, value: Buffer.from('no key'), timestamp: T0 + 5 },
    { key: Buffer.from('tombstone'), value: null, timestamp: T0 - 1000 },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 2 ** 40 },
    { key: null, value: null, timestamp: -5 },
  ]
}

function largeRecords(count: number, seed: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 11 === 0 ? null : Buffer.from(`key-${(i * seed) % 37}`),
    value: i % 13 === 0 ? null : Buffer.from(`value ${i} seed ${seed} `.repeat(30 + (i % 40))),
    headers: i % 3 === 0 ? [{ key: `trace-${i % 2}`, value: Buffer.from(`t${i}`) }] : [],
    timestamp: T0 + ((i * 7919) % 1000) - 500,
  }))
}

interface Written {
  input: BatchInput
  pos: number
  size: number
  logAppendTime?: number
}

/** The `.log`-style buffer: batches back to back, baseOffsets increasing. */
function buildLog(): { log: Buffer; written: Written[] } {
  const inputs: Array<BatchInput & { logAppendTime?: number }> = [
    { records: awkwardRecords(), baseOffset: 0, partitionLeaderEpoch: 0 },
    { records: largeRecords(200, 1), baseOffset: 5, compression: 'gzip', producerId: 77, producerEpoch: 2, baseSequence: 0, partitionLeaderEpoch: 1 },
    { records: largeRecords(200, 2), baseOffset: 205, compression: 'snappy', producerId: 77, producerEpoch: 2, baseSequence: 200, isTransactional: true },
    { records: largeRecords(200, 3), baseOffset: 405, compression: 'lz4' },
    { records: largeRecords(200, 4), baseOffset: 605, compression: 'zstd' },
    { records: awkwardRecords(), baseOffset: 805, compression: 'zstd', logAppendTime: T0 + 12345 },
    {
      records: [
        { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: T0, offsetDelta: 1 },
        { key: Buffer.from('b'), value: Buffer.from('2'), timestamp: T0 + 3, offsetDelta: 4 },
      ],
      baseOffset: 810,
      lastOffsetDelta: 6,
      compression: 'lz4',
    },
    { records: awkwardRecords(), baseOffset: 817, compression: 'gzip', deleteHorizonMs: T0 + 1 },
  ]
  const parts: Buffer[] = []
  const written: Written[] = []
  let pos = 0
  for (const { logAppendTime, ...input } of inputs) {
    const batch = encodeRecordBatch(input)
    if (logAppendTime !== undefined) setLogAppendTime(batch, 0, logAppendTime)
    written.push({ input, pos, size: batch.length, ...(logAppendTime !== undefined ? { logAppendTime } : {}) })
    parts.push(batch)
    pos += batch.length
  }
  const marker = encodeControlBatch({ type: 'COMMIT', producerId: 77, producerEpoch: 2, coordinatorEpoch: 9, timestamp: T0 + 50, baseOffset: 822 })
  written.push({
    input: { records: [{ key: Buffer.from('00000001', 'hex'), value: Buffer.from('000000000009', 'hex'), timestamp: T0 + 50 }], baseOffset: 822, isControl: true, isTransactional: true, producerId: 77, producerEpoch: 2 },
    pos,
    size: marker.length,
  })
  parts.push(marker)
  return { log: Buffer.concat(parts), written }
}

/** kafkajs's view of a record: offsets and timestamps as strings, headers as an object (repeats become arrays). */
function asKafkajs(records: RecordInput[], baseOffset: number, logAppendTime?: number): unknown[] {
  return records.map((r, i) => ({
    offset: String(baseOffset + (r.offsetDelta ?? i)),
    timestamp: String(logAppendTime ?? r.timestamp),
    key: r.key,
    value: r.value,
    headers: asKafkajsHeaders(r.headers ?? []),
  }))
}

/** Headers as kafkajs returns them: an object by key, a repeated key's values in an array. */
function asKafkajsHeaders(list: readonly { key: string; value: Buffer | null }[]): KafkajsRecord['headers'] {
  const headers: KafkajsRecord['headers'] = {}
  for (const h of list) {
    const previous = headers[h.key]
    headers[h.key] = previous === undefined ? h.value : Array.isArray(previous) ? [...previous, h.value] : [previous, h.value]
  }
  return headers
}

beforeAll(async () => {
  await loadCodecs()
})

describe('kafkajs decodes our batches', () => {
  let log: Buffer
  let written: Written[]
  beforeAll(() => {
    ;({ log, written } = buildLog())
  })

  it('walks the whole log: every batch is complete, CRC-valid by kafkajs crc32C, and consumed exactly', async () => {
    const decoder = new Decoder(log)
    const positions: number[] = []
    while (decoder.canReadBytes(61)) {
      const pos = decoder.offset
      const length = log.readInt32BE(pos + BATCH_LENGTH_OFFSET)
      expect(log.readUInt32BE(pos + CRC_OFFSET)).toBe(kafkajsCrc32C(log.subarray(pos + ATTRIBUTES_OFFSET, pos + LOG_OVERHEAD + length)))
      await decodeRecordBatch(decoder)
      expect(decoder.offset).toBe(pos + LOG_OVERHEAD + length)
      positions.push(pos)
    }
    expect(decoder.offset).toBe(log.length)
    expect(positions).toEqual(written.map((w) => w.pos))
  })

  it('reads the same batch headers and records that we wrote, for all five codecs', async () => {
    const decoder = new Decoder(log)
    for (const w of written) {
      const batch = await decodeRecordBatch(decoder)
      const { input } = w
      expect({
        firstOffset: batch.firstOffset,
        lastOffsetDelta: batch.lastOffsetDelta,
        partitionLeaderEpoch: batch.partitionLeaderEpoch,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        firstSequence: batch.firstSequence,
        inTransaction: batch.inTransaction,
        isControlBatch: batch.isControlBatch,
        timestampType: batch.timestampType,
      }).toEqual({
        firstOffset: String(input.baseOffset),
        lastOffsetDelta: input.lastOffsetDelta ?? input.records.length - 1,
        partitionLeaderEpoch: input.partitionLeaderEpoch ?? -1,
        producerId: String(input.producerId ?? -1),
        producerEpoch: input.producerEpoch ?? -1,
        firstSequence: input.baseSequence ?? -1,
        inTransaction: input.isTransactional ?? false,
        isControlBatch: input.isControl ?? false,
        timestampType: w.logAppendTime === undefined ? 0 : 1,
      })
      if (w.logAppendTime !== undefined) expect(batch.maxTimestamp).toBe(String(w.logAppendTime))
      if (input.deleteHorizonMs !== undefined) expect(batch.firstTimestamp).toBe(String(input.deleteHorizonMs))
      const records = batch.records.map(({ offset, timestamp, key, value, headers }) => ({ offset, timestamp, key, value, headers }))
      expect(records).toEqual(asKafkajs(input.records, input.baseOffset!, w.logAppendTime))
    }
  })

  it('and our own walk of the same buffer agrees', () => {
    const seen: number[] = []
    const consumed = forEachBatch(log, (pos) => {
      validateBatch(log, pos)
      seen.push(pos)
      const w = written.find((x) => x.pos === pos)!
      const records = decodeRecords(log, pos, UNLIMITED).map((r) => ({
        offset: String(r.offset),
        timestamp: String(r.timestamp),
        key: r.key,
        value: r.value,
        headers: asKafkajsHeaders(r.headers),
      }))
      expect(records).toEqual(asKafkajs(w.input.records, w.input.baseOffset!, w.logAppendTime))
    })
    expect(consumed).toBe(log.length)
    expect(seen).toEqual(written.map((w) => w.pos))
  })
})

describe('we decode kafkajs batches', () => {
  async function kafkajsBatch(compression: number, baseOffset: number, records: RecordInput[]): Promise<Buffer> {
    const base = records[0]!.timestamp
    const encoded = await KafkajsRecordBatch({
      compression,
      firstOffset: Long.fromValue(baseOffset),
      firstTimestamp: base,
      maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
      partitionLeaderEpoch: 0,
      lastOffsetDelta: records.length - 1,
      producerId: Long.fromValue(-1),
      producerEpoch: -1,
      firstSequence: -1,
      records: records.map((r, i) =>
        KafkajsRecord({
          offsetDelta: i,
          timestampDelta: r.timestamp - base,
          key: r.key,
          value: r.value,
          headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
        }),
      ),
    })
    return encoded.buffer
  }

  it('kafkajs writes the §1.7 batch with the same bytes as our encoder', async () => {
    const records: RecordInput[] = [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: T0 },
      { key: null, value: Buffer.from('v2'), timestamp: T0 + 5 },
    ]
    const theirs = await kafkajsBatch(CompressionTypes.None, 0, records)
    expect(theirs.toString('hex')).toBe(encodeRecordBatch({ records, partitionLeaderEpoch: 0 }).toString('hex'))
    expect(theirs.readUInt32BE(CRC_OFFSET)).toBe(0x97f4442a)
  })

  it('uncompressed and gzip batches from kafkajs validate and decode', async () => {
    const records = largeRecords(120, 5).map((r) => ({ ...r, headers: (r.headers ?? []).slice(0, 1) }))
    for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
      const theirs = await kafkajsBatch(compression, 1234, records)
      validateBatch(theirs, 0)
      const decoded = decodeRecords(theirs, 0, UNLIMITED)
      expect(decoded.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers])).toEqual(
        records.map((r, i) => [1234 + i, r.timestamp, r.key, r.value, r.headers ?? []]),
      )
    }
  })
})

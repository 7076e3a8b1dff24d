/**
 * RecordBatch v2 (magic 2), the unit of every Kafka log, byte for byte as Kafka's `DefaultRecordBatch`
 * and `DefaultRecord` write it (kafka-format.md §1). All integers are big-endian.
 *
 *   offset  size  field                 in CRC  notes
 *   0       8     baseOffset            no      int64, offset of the first record; assigned on append
 *   8       4     batchLength           no      int32, bytes after this field: a batch is 12 + batchLength
 *   12      4     partitionLeaderEpoch  no      int32, -1 = none; stamped by the leader
 *   16      1     magic                 no      int8 = 2, at offset 16 in every format so readers dispatch on it
 *   17      4     crc                   -       uint32 CRC-32C of bytes [21, 12 + batchLength)
 *   21      2     attributes            yes     bits 0-2 codec, 3 LOG_APPEND_TIME, 4 transactional,
 *                                               5 control, 6 delete horizon in baseTimestamp; 7-15 zero
 *   23      4     lastOffsetDelta       yes     lastOffset = baseOffset + lastOffsetDelta (kept by compaction)
 *   27      8     baseTimestamp         yes     first record's timestamp, or the delete horizon; -1 if empty
 *   35      8     maxTimestamp          yes     max record timestamp, or the broker's time (LOG_APPEND_TIME)
 *   43      8     producerId            yes     int64, -1 = none
 *   51      2     producerEpoch         yes     int16, -1 = none
 *   53      4     baseSequence          yes     int32, -1 = none; record i has baseSequence + offsetDelta
 *   57      4     recordsCount          yes     int32, never compressed
 *   61      …     records               yes     back to back, or one compressed blob (compression/index)
 *
 * The CRC covers everything from `attributes` to the end of the batch, as stored (so compressed bytes),
 * and nothing before it: baseOffset, batchLength, partitionLeaderEpoch and magic can be rewritten without
 * recomputing it, which is how the broker assigns offsets and stamps epochs. A `.log` file is these
 * batches back to back and is not rebuilt on recovery: recovery validates each batch's CRC and truncates
 * at the first invalid one.
 *
 * A record (`DefaultRecord`), all varints zigzag (varint.ts):
 *
 *   length varint (bytes after it) | attributes int8 (0) | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
 *   headersCount varint | headers: [keyLength varint (≥ 0) | key UTF-8 | valueLength varint (-1 = null) | value]
 *
 * Compaction leaves batches whose offsets have gaps, which may hold no records at all (lastOffsetDelta
 * and sequences preserved), and whose baseTimestamp may be the delete horizon; the reader accepts all
 * of these (kafka-format.md pitfall 11).
 *
 * Offsets and timestamps are int64 on disk and JS numbers here; a value beyond Number.MAX_SAFE_INTEGER
 * cannot be represented exactly and is reported as corrupt rather than rounded.
 */
import { assert } from '../util/assert'
import type { Offset, Position, TimestampMs } from '../util/types'
import { CorruptRecordError, InvalidArgumentError, RecordTooLargeError, type ErrorContext } from '../errors/index'
import {
  compress,
  compressionCodecFromId,
  compressionCodecId,
  decompress,
  isCompressionCodec,
  type CompressionCodec,
} from './compression/index'
import { crc32c } from './crc32c'

// Batch producers name the codec alongside the batch types, so it is re-exported here.
export type { CompressionCodec } from './compression/index'
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong, type Cursor } from './varint'

// ---------------------------------------------------------------------------------------------------------
// Layout

const BASE_OFFSET_LENGTH = 8
const BATCH_LENGTH_LENGTH = 4
const PARTITION_LEADER_EPOCH_LENGTH = 4
const MAGIC_LENGTH = 1
const CRC_LENGTH = 4
const ATTRIBUTES_LENGTH = 2
const LAST_OFFSET_DELTA_LENGTH = 4
const BASE_TIMESTAMP_LENGTH = 8
const MAX_TIMESTAMP_LENGTH = 8
const PRODUCER_ID_LENGTH = 8
const PRODUCER_EPOCH_LENGTH = 2
const BASE_SEQUENCE_LENGTH = 4
const RECORDS_COUNT_LENGTH = 4

export const BASE_OFFSET_OFFSET = 0
export const BATCH_LENGTH_OFFSET = BASE_OFFSET_OFFSET + BASE_OFFSET_LENGTH
export const PARTITION_LEADER_EPOCH_OFFSET = BATCH_LENGTH_OFFSET + BATCH_LENGTH_LENGTH
export const MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + PARTITION_LEADER_EPOCH_LENGTH
export const CRC_OFFSET = MAGIC_OFFSET + MAGIC_LENGTH
export const ATTRIBUTES_OFFSET = CRC_OFFSET + CRC_LENGTH
export const LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + ATTRIBUTES_LENGTH
export const BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + LAST_OFFSET_DELTA_LENGTH
export const MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + BASE_TIMESTAMP_LENGTH
export const PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + MAX_TIMESTAMP_LENGTH
export const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + PRODUCER_ID_LENGTH
export const BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + PRODUCER_EPOCH_LENGTH
export const RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + BASE_SEQUENCE_LENGTH
export const RECORDS_OFFSET = RECORDS_COUNT_OFFSET + RECORDS_COUNT_LENGTH
/** The header size, 61: the smallest possible batch (`DefaultRecordBatch.RECORD_BATCH_OVERHEAD`). */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET
/** baseOffset and batchLength, the part of a batch outside batchLength (`Records.LOG_OVERHEAD`). */
export const LOG_OVERHEAD = BATCH_LENGTH_OFFSET + BATCH_LENGTH_LENGTH
export const MAGIC = 2

assert(RECORD_BATCH_OVERHEAD === 61 && LOG_OVERHEAD === 12, 'RecordBatch v2 header layout')

// Attribute bits; exported for readers that test a bit without decoding the whole header.
export const COMPRESSION_CODEC_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
const TRANSACTIONAL_FLAG_MASK = 0x10
export const CONTROL_FLAG_MASK = 0x20
export const DELETE_HORIZON_FLAG_MASK = 0x40
/** The attribute bits Kafka defines; `computeAttributes` writes no others. */
const KNOWN_ATTRIBUTES_MASK = 0x7f

export const NO_PARTITION_LEADER_EPOCH = -1
export const NO_PRODUCER_ID = -1
export const NO_PRODUCER_EPOCH = -1
export const NO_SEQUENCE = -1
export const NO_TIMESTAMP = -1

const INT16_MAX = 0x7fff
const INT32_MAX = 0x7fffffff
/** Every record takes at least 7 bytes: length, attributes, deltas, key and value lengths, header count. */
const MIN_RECORD_BYTES = 7

// ---------------------------------------------------------------------------------------------------------
// Types

export type TimestampType = 'CreateTime' | 'LogAppendTime'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface RecordInput {
  key: Buffer | null
  value: Buffer | null
  headers?: RecordHeader[]
  timestamp: TimestampMs
  /** Offset relative to the batch's baseOffset; defaults to the record's index. Strictly increasing. */
  offsetDelta?: number
}

export interface BatchInput {
  records: RecordInput[]
  /** Default 0: producers write 0 and the log assigns the real offset with {@link setBaseOffset}. */
  baseOffset?: Offset
  /** Default -1 (none). */
  partitionLeaderEpoch?: number
  /** Default 'none'. A batch without records has no records section, whatever the codec. */
  compression?: CompressionCodec
  /** Default 'CreateTime'. */
  timestampType?: TimestampType
  isTransactional?: boolean
  isControl?: boolean
  /** Default -1 (none). */
  producerId?: number
  /** Default -1 (none). */
  producerEpoch?: number
  /** Default -1 (none). */
  baseSequence?: number
  /** Default: the largest offsetDelta (0 without records). Set it for compacted batches with gaps or 0 records. */
  lastOffsetDelta?: number
  /** Default: the first record's timestamp, as Kafka's MemoryRecordsBuilder does; -1 without records. */
  baseTimestamp?: TimestampMs
  /** Default: the largest record timestamp; -1 without records. */
  maxTimestamp?: TimestampMs
  /** Sets attribute bit 6 and is stored as baseTimestamp; record timestamps stay relative to it. */
  deleteHorizonMs?: TimestampMs
}

export interface BatchHeader {
  baseOffset: Offset
  batchLength: number
  /** 12 + batchLength: the bytes the batch takes in the log. */
  sizeInBytes: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  compression: CompressionCodec
  timestampType: TimestampType
  isTransactional: boolean
  isControl: boolean
  hasDeleteHorizon: boolean
  lastOffsetDelta: number
  lastOffset: Offset
  baseTimestamp: TimestampMs
  maxTimestamp: TimestampMs
  producerId: number
  producerEpoch: number
  baseSequence: number
  /** baseSequence + lastOffsetDelta, wrapping at int32 max as Kafka does; -1 if baseSequence is -1. */
  lastSequence: number
  recordsCount: number
}

/**
 * A decoded record. For an uncompressed batch, `key`, `value` and header values are views into the buffer
 * handed to {@link decodeRecords} (zero-copy); a caller that keeps them after that buffer is reused or
 * rewritten must copy them. For a compressed batch they are views into the decompressed records.
 * Records without headers share one frozen empty `headers` array.
 */
export interface Record {
  offset: Offset
  timestamp: TimestampMs
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export type ControlRecordType = 'ABORT' | 'COMMIT'

export interface EndTransactionMarker {
  type: ControlRecordType
  coordinatorEpoch: number
}

const EMPTY_HEADERS = Object.freeze([]) as unknown as RecordHeader[]

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Encodes one complete batch, CRC included. */
export function encodeRecordBatch(input: BatchInput): Buffer {
  const header = resolveHeader(input)
  const records = input.records
  const sized = sizeRecords(records, header.baseTimestamp)
  const lastOffsetDelta = input.lastOffsetDelta ?? Math.max(sized.maxOffsetDelta, 0)
  requireInteger('lastOffsetDelta', lastOffsetDelta, Math.max(sized.maxOffsetDelta, 0), INT32_MAX)
  const maxTimestamp = input.maxTimestamp ?? sized.maxTimestamp
  requireInteger('maxTimestamp', maxTimestamp, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)

  // Records are written once, straight into the batch when uncompressed.
  let batch: Buffer
  if (records.length === 0) {
    batch = Buffer.alloc(RECORD_BATCH_OVERHEAD)
  } else if (header.codec === 'none') {
    batch = allocateBatch(sized.recordsBytes)
    writeRecords(batch, RECORDS_OFFSET, records, sized.bodySizes, header.baseTimestamp)
  } else {
    const raw = Buffer.allocUnsafe(sized.recordsBytes)
    writeRecords(raw, 0, records, sized.bodySizes, header.baseTimestamp)
    const compressed = compress(header.codec, raw)
    batch = allocateBatch(compressed.length)
    compressed.copy(batch, RECORDS_OFFSET)
  }

  writeInt64(batch, BASE_OFFSET_OFFSET, header.baseOffset)
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET)
  batch.writeInt32BE(header.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET)
  batch.writeInt8(MAGIC, MAGIC_OFFSET)
  batch.writeInt16BE(header.attributes, ATTRIBUTES_OFFSET)
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET)
  writeInt64(batch, BASE_TIMESTAMP_OFFSET, header.baseTimestamp)
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, maxTimestamp)
  writeInt64(batch, PRODUCER_ID_OFFSET, header.producerId)
  batch.writeInt16BE(header.producerEpoch, PRODUCER_EPOCH_OFFSET)
  batch.writeInt32BE(header.baseSequence, BASE_SEQUENCE_OFFSET)
  batch.writeInt32BE(records.length, RECORDS_COUNT_OFFSET)
  writeCrc(batch, 0, batch.length)
  return batch
}

interface ResolvedHeader {
  codec: CompressionCodec
  attributes: number
  baseOffset: Offset
  baseTimestamp: TimestampMs
  partitionLeaderEpoch: number
  producerId: number
  producerEpoch: number
  baseSequence: number
}

/** The header fields that do not depend on the records, defaulted and range-checked. */
function resolveHeader(input: BatchInput): ResolvedHeader {
  const codec = checkedCompressionCodec(input.compression ?? 'none')
  const timestampType = input.timestampType ?? 'CreateTime'
  if (timestampType !== 'CreateTime' && timestampType !== 'LogAppendTime') {
    throw new InvalidArgumentError(`Unknown timestampType ${JSON.stringify(timestampType)}`)
  }
  const header: ResolvedHeader = {
    codec,
    attributes:
      compressionCodecId(codec) |
      (timestampType === 'LogAppendTime' ? TIMESTAMP_TYPE_MASK : 0) |
      (input.isTransactional ? TRANSACTIONAL_FLAG_MASK : 0) |
      (input.isControl ? CONTROL_FLAG_MASK : 0) |
      (input.deleteHorizonMs !== undefined ? DELETE_HORIZON_FLAG_MASK : 0),
    baseOffset: input.baseOffset ?? 0,
    baseTimestamp: batchBaseTimestamp(input),
    partitionLeaderEpoch: input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    producerId: input.producerId ?? NO_PRODUCER_ID,
    producerEpoch: input.producerEpoch ?? NO_PRODUCER_EPOCH,
    baseSequence: input.baseSequence ?? NO_SEQUENCE,
  }
  requireInteger('baseOffset', header.baseOffset, 0, Number.MAX_SAFE_INTEGER)
  requireInteger('partitionLeaderEpoch', header.partitionLeaderEpoch, -1, INT32_MAX)
  checkProducerFields(header.producerId, header.producerEpoch, header.baseSequence)
  return header
}

/**
 * The producer fields of a batch header in Kafka's ranges (int64 id, int16 epoch, int32 sequence; -1
 * for none): `encodeRecordBatch` and the producer's BatchBuilder both write them.
 */
export function checkProducerFields(producerId: number, producerEpoch: number, baseSequence: number): void {
  requireInteger('producerId', producerId, -1, Number.MAX_SAFE_INTEGER)
  requireInteger('producerEpoch', producerEpoch, -1, INT16_MAX)
  requireInteger('baseSequence', baseSequence, -1, INT32_MAX)
}

/** A batch of `size` bytes whose batchLength field (size − 12) must fit an int32. */
export function checkBatchLength(size: number): void {
  if (size - LOG_OVERHEAD > INT32_MAX) throw new RecordTooLargeError(`A batch of ${size} bytes exceeds the int32 batchLength field`)
}

/** `codec` as a CompressionCodec, or ERR_INVALID_ARGUMENT naming it. */
export function checkedCompressionCodec(codec: unknown): CompressionCodec {
  if (!isCompressionCodec(codec)) throw new InvalidArgumentError(`Unknown compression codec ${JSON.stringify(codec)}`)
  return codec
}

/** The sizing pass: validates and sizes every record, so that records are then written exactly once. */
function sizeRecords(
  records: RecordInput[],
  baseTimestamp: TimestampMs,
): { bodySizes: number[]; recordsBytes: number; maxTimestamp: TimestampMs; maxOffsetDelta: number } {
  const bodySizes = new Array<number>(records.length)
  let maxTimestamp = NO_TIMESTAMP
  let maxOffsetDelta = -1
  let recordsBytes = 0
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    const offsetDelta = record.offsetDelta ?? i
    // Per-record checks name the record only when they fail: a template literal evaluated for every
    // record (as an argument) cost more than sizing the record itself.
    requireRecordInteger(i, '.offsetDelta', offsetDelta, maxOffsetDelta + 1, INT32_MAX)
    requireRecordInteger(i, '.timestamp', record.timestamp, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    const timestampDelta = record.timestamp - baseTimestamp
    requireRecordInteger(i, ' timestamp delta', timestampDelta, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    const bodyBytes = recordBodySize(record, timestampDelta, offsetDelta)
    bodySizes[i] = bodyBytes
    recordsBytes += sizeOfVarint(bodyBytes) + bodyBytes
    maxOffsetDelta = offsetDelta
    if (i === 0 || record.timestamp > maxTimestamp) maxTimestamp = record.timestamp
  }
  return { bodySizes, recordsBytes, maxTimestamp, maxOffsetDelta }
}

/**
 * Encodes a transaction marker (`MemoryRecords.writeEndTransactionalMarker`): a transactional control
 * batch with one record whose key is (version 0, type) and value (version 0, coordinatorEpoch).
 */
export function encodeControlBatch(opts: {
  type: ControlRecordType
  producerId: number
  producerEpoch: number
  coordinatorEpoch: number
  timestamp: TimestampMs
  baseOffset?: Offset
  /** Default -1 (none). */
  partitionLeaderEpoch?: number
}): Buffer {
  if (opts.type !== 'ABORT' && opts.type !== 'COMMIT') throw new InvalidArgumentError(`Unknown control record type ${JSON.stringify(opts.type)}`)
  requireInteger('coordinatorEpoch', opts.coordinatorEpoch, -(INT32_MAX + 1), INT32_MAX)
  const key = Buffer.alloc(CONTROL_KEY_BYTES)
  key.writeInt16BE(CONTROL_RECORD_VERSION, 0)
  key.writeInt16BE(opts.type === 'ABORT' ? CONTROL_TYPE_ABORT : CONTROL_TYPE_COMMIT, 2)
  const value = Buffer.alloc(END_TXN_MARKER_VALUE_BYTES)
  value.writeInt16BE(CONTROL_RECORD_VERSION, 0)
  value.writeInt32BE(opts.coordinatorEpoch, 2)
  return encodeRecordBatch({
    records: [{ key, value, timestamp: opts.timestamp }],
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    isTransactional: true,
    isControl: true,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: NO_SEQUENCE,
  })
}

const CONTROL_RECORD_VERSION = 0
const CONTROL_TYPE_ABORT = 0
const CONTROL_TYPE_COMMIT = 1
const CONTROL_KEY_BYTES = 4
const END_TXN_MARKER_VALUE_BYTES = 6

/**
 * Reads the transaction marker held by the record of a control batch (`EndTransactionMarker`). Like
 * Kafka, versions above 0 are read as version 0; a negative version, a short key or value, or another
 * control type (KRaft's LEADER_CHANGE and friends) is corrupt here.
 */
export function decodeEndTransactionMarker(record: Record, context: ErrorContext = {}): EndTransactionMarker {
  const { key, value } = record
  const where = { ...context, offset: record.offset }
  if (key === null || key.length < CONTROL_KEY_BYTES || key.readInt16BE(0) < 0) {
    throw new CorruptRecordError(`Control record at offset ${record.offset} has an invalid key`, where)
  }
  const typeId = key.readInt16BE(2)
  if (typeId !== CONTROL_TYPE_ABORT && typeId !== CONTROL_TYPE_COMMIT) {
    throw new CorruptRecordError(`Control record at offset ${record.offset} has type ${typeId}, not a transaction marker`, where)
  }
  if (value === null || value.length < END_TXN_MARKER_VALUE_BYTES || value.readInt16BE(0) < 0) {
    throw new CorruptRecordError(`Transaction marker at offset ${record.offset} has an invalid value`, where)
  }
  return { type: typeId === CONTROL_TYPE_ABORT ? 'ABORT' : 'COMMIT', coordinatorEpoch: value.readInt32BE(2) }
}

function batchBaseTimestamp(input: BatchInput): TimestampMs {
  if (input.deleteHorizonMs !== undefined) {
    if (input.baseTimestamp !== undefined && input.baseTimestamp !== input.deleteHorizonMs) {
      throw new InvalidArgumentError('baseTimestamp and deleteHorizonMs share a field; set one of them', {
        baseTimestamp: input.baseTimestamp,
        deleteHorizonMs: input.deleteHorizonMs,
      })
    }
    requireInteger('deleteHorizonMs', input.deleteHorizonMs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    return input.deleteHorizonMs
  }
  const baseTimestamp = input.baseTimestamp ?? input.records[0]?.timestamp ?? NO_TIMESTAMP
  requireInteger('baseTimestamp', baseTimestamp, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  return baseTimestamp
}

function allocateBatch(recordsSectionBytes: number): Buffer {
  const size = RECORD_BATCH_OVERHEAD + recordsSectionBytes
  checkBatchLength(size)
  // Unsafe (uninitialised) allocation is fine: the header and records write every byte, checked below.
  return Buffer.allocUnsafe(size)
}

/** The size of a record after its length prefix. Validates the record's fields on the way. */
function recordBodySize(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta)
  size += bytesFieldSize(record.key, 'key') + bytesFieldSize(record.value, 'value')
  const headers = record.headers ?? EMPTY_HEADERS
  size += sizeOfVarint(headers.length)
  for (const header of headers) {
    if (typeof header?.key !== 'string') throw new InvalidArgumentError('A record header key must be a string')
    const keyBytes = Buffer.byteLength(header.key, 'utf8')
    size += sizeOfVarint(keyBytes) + keyBytes + bytesFieldSize(header.value, 'header value')
  }
  return size
}

function bytesFieldSize(bytes: Buffer | null, what: string): number {
  if (bytes === null) return 1
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`A record ${what} must be a Buffer or null`)
  return sizeOfVarint(bytes.length) + bytes.length
}

function writeRecords(buf: Buffer, pos: Position, records: RecordInput[], bodySizes: number[], baseTimestamp: TimestampMs): void {
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    const bodyBytes = bodySizes[i]!
    pos = writeVarint(buf, pos, bodyBytes)
    const bodyStart = pos
    buf[pos++] = 0 // record attributes, unused
    pos = writeVarlong(buf, pos, record.timestamp - baseTimestamp)
    pos = writeVarint(buf, pos, record.offsetDelta ?? i)
    pos = writeBytesField(buf, pos, record.key)
    pos = writeBytesField(buf, pos, record.value)
    const headers = record.headers ?? EMPTY_HEADERS
    pos = writeVarint(buf, pos, headers.length)
    for (const header of headers) {
      const keyBytes = Buffer.byteLength(header.key, 'utf8')
      pos = writeVarint(buf, pos, keyBytes)
      pos += buf.write(header.key, pos, keyBytes, 'utf8')
      pos = writeBytesField(buf, pos, header.value)
    }
    // Checked before the message is built (see the sizing pass): this runs for every record.
    if (pos - bodyStart !== bodyBytes) assert(false, `record ${i} wrote ${pos - bodyStart} bytes, sized ${bodyBytes}`)
  }
  assert(pos === buf.length, `records end at ${pos}, buffer is ${buf.length} bytes`)
}

function writeBytesField(buf: Buffer, pos: Position, bytes: Buffer | null): Position {
  if (bytes === null) return writeVarint(buf, pos, -1)
  pos = writeVarint(buf, pos, bytes.length)
  buf.set(bytes, pos)
  return pos + bytes.length
}

/** {@link requireInteger} for field `field` of record `index`, building the name only on failure. */
function requireRecordInteger(index: number, field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) requireInteger(`records[${index}]${field}`, value, min, max)
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`, { [name]: value })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Header access

/**
 * The size of the batch at `pos` (12 + batchLength) if its first 12 bytes are in `buf`, else -1. Nothing
 * else is checked: the batch may extend past `buf` or be corrupt.
 */
export function batchSizeAt(buf: Buffer, pos: Position): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET)
}

/** Reads the 61-byte header at `pos` (which must be in `buf`; the records need not be). No CRC check. */
export function readBatchHeader(buf: Buffer, pos: Position = 0): BatchHeader {
  if (pos < 0 || buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(`Truncated batch header: ${Math.max(0, buf.length - pos)} bytes at position ${pos}, need ${RECORD_BATCH_OVERHEAD}`, {
      position: pos,
    })
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET)
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const baseOffset = readBaseOffset(buf, pos)
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
  const baseSequence = buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET)
  return {
    baseOffset,
    batchLength,
    sizeInBytes: LOG_OVERHEAD + batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    compression: codecOf(attributes, buf, pos, {}),
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime',
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta,
    lastOffset: safeSum(baseOffset, lastOffsetDelta, 'lastOffset', pos),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET, 'baseTimestamp', pos),
    maxTimestamp: readMaxTimestamp(buf, pos),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET, 'producerId', pos),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence,
    lastSequence: baseSequence === NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(baseSequence, lastOffsetDelta),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  }
}

/** The batch's baseOffset, read without decoding the rest of the header. */
export function readBaseOffset(buf: Buffer, pos: Position): Offset {
  return readInt64(buf, pos + BASE_OFFSET_OFFSET, 'baseOffset', pos)
}

/** baseOffset + lastOffsetDelta: the offset of the batch's last record, also after compaction. */
export function readLastOffset(buf: Buffer, pos: Position): Offset {
  return safeSum(readBaseOffset(buf, pos), buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET), 'lastOffset', pos)
}

export function readMaxTimestamp(buf: Buffer, pos: Position): TimestampMs {
  return readInt64(buf, pos + MAX_TIMESTAMP_OFFSET, 'maxTimestamp', pos)
}

/** `DefaultRecordBatch.incrementSequence`: sequences wrap from int32 max to 0. */
function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1
  return sequence + increment
}

// ---------------------------------------------------------------------------------------------------------
// Validation and in-place rewrites

/**
 * Checks the batch at `pos` the way Kafka's `ensureValid` does before trusting it: a complete header,
 * batchLength covering at least the header, the batch inside `buf`, magic 2, and the CRC.
 */
export function validateBatch(buf: Buffer, pos: Position, context: ErrorContext = {}): void {
  const size = checkedBatchSize(buf, pos, context)
  const stored = buf.readUInt32BE(pos + CRC_OFFSET)
  const computed = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size))
  if (stored !== computed) {
    throw new CorruptRecordError(
      `Record batch at position ${pos} is corrupt: CRC mismatch, expected 0x${hex32(stored)} (stored) but computed 0x${hex32(computed)}`,
      batchContext(buf, pos, context),
    )
  }
}

/** Rewrites baseOffset, which the CRC does not cover (the log assigns offsets this way on append). */
export function setBaseOffset(buf: Buffer, pos: Position, baseOffset: Offset): void {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, `baseOffset ${baseOffset} must be a non-negative safe integer`)
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, baseOffset)
}

/** Rewrites partitionLeaderEpoch, which the CRC does not cover. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: Position, epoch: number): void {
  assert(Number.isInteger(epoch) && epoch >= -1 && epoch <= INT32_MAX, `partitionLeaderEpoch ${epoch} must be an int32 ≥ -1`)
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET)
}

/**
 * Stamps the batch with the broker's time, as Kafka's `setMaxTimestamp(LOG_APPEND_TIME, t)` does: sets
 * attribute bit 3 (clearing the undefined bits 7-15, as `computeAttributes` does), writes `timestamp`
 * as maxTimestamp, and recomputes the CRC, since both fields are covered by it. Readers then give every
 * record this timestamp.
 */
export function setLogAppendTime(buf: Buffer, pos: Position, timestamp: TimestampMs): void {
  assert(Number.isSafeInteger(timestamp), `timestamp ${timestamp} must be a safe integer`)
  const size = checkedBatchSize(buf, pos, {})
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  buf.writeInt16BE((attributes & KNOWN_ATTRIBUTES_MASK) | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET)
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp)
  writeCrc(buf, pos, size)
}

function writeCrc(buf: Buffer, pos: Position, size: number): void {
  buf.writeUInt32BE(crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size)), pos + CRC_OFFSET)
}

/** The batch's size after checking that it is complete, at least a header long, and magic 2. */
function checkedBatchSize(buf: Buffer, pos: Position, context: ErrorContext): number {
  const available = buf.length - pos
  if (pos < 0 || available < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `Truncated record batch at position ${pos}: ${Math.max(0, available)} bytes, a batch header needs ${RECORD_BATCH_OVERHEAD}`,
      { ...context, position: pos },
    )
  }
  const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET)
  if (size < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `Record batch at position ${pos} declares ${size} bytes, less than the minimum of ${RECORD_BATCH_OVERHEAD}`,
      batchContext(buf, pos, context),
    )
  }
  if (size > available) {
    throw new CorruptRecordError(
      `Truncated record batch at position ${pos}: it declares ${size} bytes but only ${available} are present`,
      batchContext(buf, pos, context),
    )
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET)
  if (magic !== MAGIC) {
    throw new CorruptRecordError(`Record batch at position ${pos} has magic ${magic}, expected ${MAGIC}`, batchContext(buf, pos, context))
  }
  return size
}

// ---------------------------------------------------------------------------------------------------------
// Walking a log

/**
 * Calls `fn(pos, size)` for each complete batch in `buf`, from position 0, and returns the bytes consumed:
 * the position where a partial tail (or the end) begins. A batch that declares fewer than 61 bytes is
 * corrupt (it would not advance the walk). Batches are not validated.
 */
export function forEachBatch(buf: Buffer, fn: (pos: Position, size: number) => void): number {
  let pos = 0
  for (;;) {
    const size = batchSizeAt(buf, pos)
    if (size < 0) return pos
    if (size < RECORD_BATCH_OVERHEAD) {
      throw new CorruptRecordError(`Record batch at position ${pos} declares ${size} bytes, fewer than ${RECORD_BATCH_OVERHEAD}`, {
        position: pos,
      })
    }
    if (pos + size > buf.length) return pos
    fn(pos, size)
    pos += size
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding records

/**
 * Decodes the records of the batch at `pos`, checking what Kafka's reader checks (`DefaultRecord.readFrom`,
 * `DefaultRecordBatch.RecordIterator`): each record consumes exactly its declared length, header counts
 * are ≥ 0 and fit the record, header keys have non-negative lengths, and the batch holds nothing after its
 * last record. It does not verify the CRC; that is {@link validateBatch}'s job, done once when a batch
 * enters or is recovered from the log.
 *
 * Compressed records are inflated up to `options.maxDecompressedBytes` (ERR_DECOMPRESSION_LIMIT past it).
 * With LOG_APPEND_TIME every record's timestamp is the batch's maxTimestamp. See {@link Record} for the
 * aliasing of keys and values.
 */
export function decodeRecords(
  buf: Buffer,
  pos: Position,
  options: { maxDecompressedBytes: number },
  context: ErrorContext = {},
): Record[] {
  const section = openRecords(buf, pos, options, context)
  if (section === undefined) return []
  const { data, cursor, count, baseOffset, baseTimestamp, logAppendTime, maxTimestamp } = section
  const records = new Array<Record>(count)
  let i = 0
  try {
    for (; i < count; i++) records[i] = readRecord(data, cursor, baseOffset, baseTimestamp, logAppendTime, maxTimestamp)
  } catch (e) {
    throw corruptRecordAt(e, i, buf, pos, baseOffset, context)
  }
  checkSectionConsumed(cursor, count, buf, pos, baseOffset, context)
  return records
}

/**
 * Walks the records of the batch at `pos` with every check {@link decodeRecords} makes, without
 * materialising them: `visit` gets each record's offset delta and timestamp. Appends validate whole
 * batches this way (no key, value or header object per record). Returns the number of records.
 */
export function forEachRecordIn(
  buf: Buffer,
  pos: Position,
  options: { maxDecompressedBytes: number },
  context: ErrorContext,
  visit: (offsetDelta: number, timestamp: TimestampMs) => void,
): number {
  const section = openRecords(buf, pos, options, context)
  if (section === undefined) return 0
  const { data, cursor, count, baseOffset, baseTimestamp, logAppendTime, maxTimestamp } = section
  let i = 0
  try {
    for (; i < count; i++) {
      scanRecord(data, cursor, baseOffset)
      visit(scanned.offsetDelta, logAppendTime ? maxTimestamp : baseTimestamp + scanned.timestampDelta)
    }
  } catch (e) {
    throw corruptRecordAt(e, i, buf, pos, baseOffset, context)
  }
  checkSectionConsumed(cursor, count, buf, pos, baseOffset, context)
  return count
}

interface RecordsSection {
  /** The records' bytes: the batch buffer, or the inflated records of a compressed batch. */
  data: Buffer
  cursor: Cursor
  count: number
  baseOffset: Offset
  baseTimestamp: TimestampMs
  logAppendTime: boolean
  maxTimestamp: TimestampMs
}

/** The batch-level checks and the (inflated) records section; undefined for an empty batch. */
function openRecords(buf: Buffer, pos: Position, options: { maxDecompressedBytes: number }, context: ErrorContext): RecordsSection | undefined {
  const size = checkedBatchSize(buf, pos, context)
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  // Kafka's iterator returns nothing for an empty batch without looking at the records section.
  if (count === 0) return undefined
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const codec = codecOf(attributes, buf, pos, context)
  const baseOffset = readBaseOffset(buf, pos)
  const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET, 'baseTimestamp', pos)
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
  const maxTimestamp = readMaxTimestamp(buf, pos)

  let data = buf
  const cursor: Cursor = { pos: pos + RECORDS_OFFSET, end: pos + size }
  if (codec !== 'none') {
    data = decompress(codec, buf.subarray(pos + RECORDS_OFFSET, pos + size), options.maxDecompressedBytes, batchContext(buf, pos, context))
    cursor.pos = 0
    cursor.end = data.length
  }
  if (count < 0 || count > (cursor.end - cursor.pos) / MIN_RECORD_BYTES) {
    throw new CorruptRecordError(
      `Record batch at offset ${baseOffset} declares ${count} records, which ${count < 0 ? 'is invalid' : `cannot fit in ${cursor.end - cursor.pos} bytes`}`,
      batchContext(buf, pos, context),
    )
  }
  return { data, cursor, count, baseOffset, baseTimestamp, logAppendTime, maxTimestamp }
}

function corruptRecordAt(e: unknown, i: number, buf: Buffer, pos: Position, baseOffset: Offset, context: ErrorContext): unknown {
  if (!(e instanceof CorruptRecordError)) return e
  return new CorruptRecordError(`Record ${i} of the batch at offset ${baseOffset} is corrupt: ${e.message}`, batchContext(buf, pos, context), e)
}

function checkSectionConsumed(cursor: Cursor, count: number, buf: Buffer, pos: Position, baseOffset: Offset, context: ErrorContext): void {
  if (cursor.pos !== cursor.end) {
    throw new CorruptRecordError(
      `Incorrect declared batch size at offset ${baseOffset}: ${cursor.end - cursor.pos} bytes remain after ${count} records`,
      batchContext(buf, pos, context),
    )
  }
}

/**
 * Where `scanRecord` found the fields of the record it last read. Module-level scratch, so a walk
 * allocates nothing per record; valid until the next call (decoding is synchronous, never re-entrant).
 */
const scanned = { timestampDelta: 0, offsetDelta: 0, keyStart: 0, keyLength: -1, valueStart: 0, valueLength: -1, headersStart: 0, headersCount: 0 }

/**
 * Reads one record's framing and fields at `cursor` (advancing it past the record) and checks them as
 * Kafka's `DefaultRecord.readFrom` does: the body consumes exactly its declared length, every length
 * stays inside the record, the header count is ≥ 0 and fits. A null key or value has length -1.
 */
function scanRecord(data: Buffer, cursor: Cursor, baseOffset: Offset): void {
  const length = readVarint(data, cursor)
  const bodyStart = cursor.pos
  const batchEnd = cursor.end
  const recordEnd = bodyStart + length
  if (length < 1 || recordEnd > batchEnd) throw new CorruptRecordError(`invalid record length ${length}`)
  cursor.end = recordEnd
  cursor.pos++ // attributes, unused
  scanned.timestampDelta = readVarlong(data, cursor)
  const offsetDelta = readVarint(data, cursor)
  if (baseOffset + offsetDelta > Number.MAX_SAFE_INTEGER) throw new CorruptRecordError(`offset ${baseOffset} + ${offsetDelta} exceeds 2^53 - 1`)
  scanned.offsetDelta = offsetDelta
  scanned.keyLength = skipBytesField(data, cursor)
  scanned.keyStart = cursor.pos - Math.max(0, scanned.keyLength)
  scanned.valueLength = skipBytesField(data, cursor)
  scanned.valueStart = cursor.pos - Math.max(0, scanned.valueLength)
  const headersCount = readVarint(data, cursor)
  if (headersCount < 0 || headersCount > recordEnd - cursor.pos) throw new CorruptRecordError(`invalid header count ${headersCount}`)
  scanned.headersStart = cursor.pos
  scanned.headersCount = headersCount
  for (let h = 0; h < headersCount; h++) {
    const keyLength = readVarint(data, cursor)
    if (keyLength < 0 || cursor.pos + keyLength > recordEnd) throw new CorruptRecordError(`invalid header key length ${keyLength}`)
    cursor.pos += keyLength
    skipBytesField(data, cursor)
  }
  if (cursor.pos !== recordEnd) {
    throw new CorruptRecordError(`record declares ${length} bytes but its fields take ${cursor.pos - bodyStart}`)
  }
  cursor.end = batchEnd
}

function readRecord(
  data: Buffer,
  cursor: Cursor,
  baseOffset: Offset,
  baseTimestamp: TimestampMs,
  logAppendTime: boolean,
  maxTimestamp: TimestampMs,
): Record {
  scanRecord(data, cursor, baseOffset)
  const { keyStart, keyLength, valueStart, valueLength, headersCount } = scanned
  return {
    offset: baseOffset + scanned.offsetDelta,
    timestamp: logAppendTime ? maxTimestamp : baseTimestamp + scanned.timestampDelta,
    key: keyLength < 0 ? null : data.subarray(keyStart, keyStart + keyLength),
    value: valueLength < 0 ? null : data.subarray(valueStart, valueStart + valueLength),
    headers: headersCount === 0 ? EMPTY_HEADERS : readHeaders(data, scanned.headersStart, headersCount),
  }
}

/** The headers `scanRecord` already checked, as objects (keys decoded as UTF-8, values as views). */
function readHeaders(data: Buffer, start: Position, count: number): RecordHeader[] {
  const headers = new Array<RecordHeader>(count)
  const cursor: Cursor = { pos: start, end: data.length }
  for (let h = 0; h < count; h++) {
    const keyLength = readVarint(data, cursor)
    const key = data.toString('utf8', cursor.pos, cursor.pos + keyLength)
    cursor.pos += keyLength
    const valueLength = readVarint(data, cursor)
    const value = valueLength < 0 ? null : data.subarray(cursor.pos, cursor.pos + valueLength)
    if (valueLength > 0) cursor.pos += valueLength
    headers[h] = { key, value }
  }
  return headers
}

/** Skips a varint-length-prefixed bytes field (length -1: null); returns its length. */
function skipBytesField(data: Buffer, cursor: Cursor): number {
  const length = readVarint(data, cursor)
  if (length < 0) return length
  const end = cursor.pos + length
  if (end > cursor.end) throw new CorruptRecordError(`a ${length}-byte field runs past the end of its record`)
  cursor.pos = end
  return length
}

function codecOf(attributes: number, buf: Buffer, pos: Position, context: ErrorContext): CompressionCodec {
  const codec = compressionCodecFromId(attributes & COMPRESSION_CODEC_MASK)
  if (codec === undefined) {
    throw new CorruptRecordError(
      `Record batch at position ${pos} uses unknown compression codec id ${attributes & COMPRESSION_CODEC_MASK}`,
      batchContext(buf, pos, context),
    )
  }
  return codec
}

/** Reads an int64 that must be a safe integer; `batchPos` locates the batch in the error. */
function readInt64(buf: Buffer, at: number, field: string, batchPos: Position): number {
  const value = readInt64Number(buf, at)
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError(`The ${field} of the batch at position ${batchPos} is outside the safe integer range`, {
      position: batchPos,
    })
  }
  return value
}

function safeSum(base: number, delta: number, field: string, batchPos: Position): number {
  const value = base + delta
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError(`The ${field} of the batch at position ${batchPos} is outside the safe integer range`, {
      position: batchPos,
    })
  }
  return value
}

/**
 * The big-endian int64 at `at` as a number, unchecked: exact when it is a safe integer, which the
 * caller checks or knows (two int32 reads; no BigInt per call, unlike `Number(readBigInt64BE)`).
 */
export function readInt64Number(buf: Buffer, at: Position): number {
  return buf.readInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4)
}

/** Writes a safe integer as int64: the high word by floor division, so negative values come out right. */
export function writeInt64(buf: Buffer, at: Position, value: number): void {
  const high = Math.floor(value / 2 ** 32)
  buf.writeInt32BE(high, at)
  buf.writeUInt32BE(value - high * 2 ** 32, at + 4)
}

/** Error context naming the batch; only built on the error path. */
function batchContext(buf: Buffer, pos: Position, context: ErrorContext): ErrorContext {
  const extra: ErrorContext = { position: pos }
  if (buf.length - pos >= BASE_OFFSET_LENGTH) {
    const baseOffset = readInt64Number(buf, pos + BASE_OFFSET_OFFSET)
    if (Number.isSafeInteger(baseOffset)) extra.baseOffset = baseOffset
  }
  return { ...extra, ...context }
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0')
}

/**
 * Decoding one batch's records into ConsumerRecords: the consumer's hot path.
 *
 * The record layout is the codec's (the `DefaultRecord` table in src/codec/record-batch.ts); this is a
 * second reader of it, kept for speed:
 * - one object per record (a LazyRecord, lazy-record.ts), and none for records below the fetch
 *   position. Offset and timestamp are decoded here; key, value and headers are made when first read,
 *   as views made by `bufferView` (buffer-view.ts), not by `Buffer#subarray`;
 * - varints are read by small functions with one- and two-byte fast paths that take and return the
 *   position, so the cursor stays in a local variable (not a cursor object, nor a module variable).
 *
 * It checks what the codec's reader checks (each record consumes exactly its declared length, fields
 * stay inside their record, header counts fit, varints are at most 5 bytes, nothing follows the last
 * record), walking every field of every record of the batch before it returns any, so a corrupt batch
 * is ERR_CORRUPT_RECORD here, at poll time, even though the fields are materialised later. CRCs are not
 * checked: the log checked them when the batch was appended or recovered, and Kafka's fetch path trusts
 * the log the same way.
 *
 * Concurrency: `decodeBatch` is synchronous and not re-entrant; the module-level `value` (the last varint
 * read) is only meaningful right after the read that set it.
 */
import { decompress } from '../codec/compression/index'
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  readBatchHeader,
  readInt64Number,
  type BatchHeader,
} from '../codec/record-batch'
import { readVarlong } from '../codec/varint'
import { CorruptRecordError, type ErrorContext } from '../errors/index'
import type { Offset, Position } from '../util/types'
import { LazyRecord, RecordBytes } from './lazy-record'
import type { ConsumerRecord } from './types'

/** The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headersCount. */
const MIN_RECORD_BYTES = 7

export interface DecodeTarget {
  readonly topic: string
  readonly partition: number
  readonly context: ErrorContext
}

/**
 * The value of the last varint read. The readers below take the position to read at and the end of the
 * record (or batch) it must lie in, and return the position after the varint; the cursor lives in the
 * caller's local variable, where V8 keeps it in a register (a module-level cursor costs a memory load
 * and store per access: measured, the whole walk took twice as long that way).
 */
let value = 0

/**
 * Appends the records of the batch at `pos` with offsets ≥ `fromOffset` to `into` (the fetcher passes
 * the poll's own array when the whole batch fits in the poll, saving a copy per record) and returns
 * `into`. If the batch is corrupt, `into` is left as it was and ERR_CORRUPT_RECORD thrown. Compressed
 * records are inflated up to `maxDecompressedBytes` (ERR_DECOMPRESSION_LIMIT past it). Under
 * LOG_APPEND_TIME every record's timestamp is the batch's maxTimestamp.
 *
 * Assumes: the whole batch is inside `buf` (PartitionLog.read returns whole batches).
 */
export function decodeBatch(
  buf: Buffer,
  pos: Position,
  fromOffset: Offset,
  maxDecompressedBytes: number,
  target: DecodeTarget,
  into: ConsumerRecord[] = [],
): ConsumerRecord[] {
  let header: BatchHeader | undefined
  if (!isPlainHeader(buf, pos)) header = readBatchHeader(buf, pos) // throws for a header the codec refuses
  const baseOffset = header?.baseOffset ?? readInt64Number(buf, pos + BASE_OFFSET_OFFSET)
  const magic = header?.magic ?? buf.readInt8(pos + MAGIC_OFFSET)
  if (magic !== MAGIC) throw corrupt(`has magic ${magic}, expected ${MAGIC}`, baseOffset, pos, target)
  const count = header?.recordsCount ?? buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  if (count === 0) return into
  const batchEnd = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET)
  let data = buf
  let start = pos + RECORDS_OFFSET
  if (header !== undefined && header.compression !== 'none') {
    data = decompress(header.compression, buf.subarray(start, batchEnd), maxDecompressedBytes, { ...target.context, position: pos })
    start = 0
  }
  const dataEnd = data === buf ? batchEnd : data.length
  if (count < 0 || count > (dataEnd - start) / MIN_RECORD_BYTES) throw corrupt(`declares ${count} records, which cannot fit in ${dataEnd - start} bytes`, baseOffset, pos, target)
  const before = into.length
  const { topic, partition } = target
  const baseTimestamp = readInt64Number(buf, pos + BASE_TIMESTAMP_OFFSET)
  const maxTimestamp = readInt64Number(buf, pos + MAX_TIMESTAMP_OFFSET)
  const logAppendTime = (buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK) !== 0
  const bytes = new RecordBytes(data)
  let at = start
  try {
    for (let i = 0; i < count; i++) {
      at = varint(data, at, dataEnd)
      const length = value
      const recordEnd = at + length
      if (length < 1 || recordEnd > dataEnd) throw new CorruptRecordError(`record ${i} has invalid length ${length}`)
      at++ // attributes, unused
      at = varlong(data, at, recordEnd)
      const timestampDelta = value
      at = varint(data, at, recordEnd)
      const offset = baseOffset + value
      if (offset < fromOffset) {
        at = recordEnd
        continue
      }
      if (offset > Number.MAX_SAFE_INTEGER) throw new CorruptRecordError(`offset ${offset} exceeds 2^53 - 1`)
      const keyAt = at
      at = skipBytes(data, at, recordEnd) // key
      at = skipBytes(data, at, recordEnd) // value
      // Most records have no headers: a count of 0 is one zero byte, checked inline.
      at = at < recordEnd && data[at] === 0 ? at + 1 : skipHeaders(data, at, recordEnd)
      if (at !== recordEnd) throw new CorruptRecordError(`record at offset ${offset} declares ${length} bytes but its fields take ${length - recordEnd + at}`)
      into.push(new LazyRecord(topic, partition, offset, logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta, bytes, keyAt))
    }
  } catch (e) {
    into.length = before
    if (!(e instanceof CorruptRecordError)) throw e
    throw corrupt(`holds a corrupt record: ${e.message}`, baseOffset, pos, target, e)
  }
  if (at !== dataEnd) {
    into.length = before
    throw corrupt(`has ${dataEnd - at} bytes after its ${count} records (incorrect declared batch size)`, baseOffset, pos, target)
  }
  return into
}

/**
 * Whether the batch header at `pos` is one `readBatchHeader` accepts and the batch is uncompressed, so
 * that `decodeBatch` can read the few fields it needs straight from the bytes. The codec's reader builds
 * a 24-field object (about 300 bytes) per batch, and a consumer at the tail of a log decodes a batch per
 * record or two. Any other header (compressed, truncated, an int64 field outside the safe integers) goes
 * through `readBatchHeader`, so that its errors stay the codec's, in the codec's order.
 */
function isPlainHeader(buf: Buffer, pos: Position): boolean {
  if (pos < 0 || buf.length - pos < RECORD_BATCH_OVERHEAD) return false
  if ((buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) !== 0) return false
  const baseOffset = readInt64Number(buf, pos + BASE_OFFSET_OFFSET)
  return (
    Number.isSafeInteger(baseOffset) &&
    Number.isSafeInteger(baseOffset + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)) &&
    Number.isSafeInteger(readInt64Number(buf, pos + BASE_TIMESTAMP_OFFSET)) &&
    Number.isSafeInteger(readInt64Number(buf, pos + MAX_TIMESTAMP_OFFSET)) &&
    Number.isSafeInteger(readInt64Number(buf, pos + PRODUCER_ID_OFFSET))
  )
}

/**
 * A zigzag varint (int32), at most 5 bytes, at `at` and before `end`. One- and two-byte varints (up to
 * ±8191: the lengths and offset deltas of records up to 8 KiB) are read inline; small, so V8 inlines it.
 */
function varint(data: Buffer, at: Position, end: Position): Position {
  if (at < end) {
    const b = data[at]!
    if (b < 0x80) {
      value = (b >>> 1) ^ -(b & 1)
      return at + 1
    }
    if (at + 1 < end) {
      const b2 = data[at + 1]!
      if (b2 < 0x80) {
        const v = (b & 0x7f) | (b2 << 7)
        value = (v >>> 1) ^ -(v & 1)
        return at + 2
      }
    }
  }
  return longVarint(data, at, end)
}

function longVarint(data: Buffer, at: Position, end: Position): Position {
  if (at >= end) throw pastEnd(end)
  let b = data[at++]!
  let v = b & 0x7f
  for (let shift = 7; b >= 0x80; shift += 7) {
    if (at >= end) throw pastEnd(end)
    if (shift > 28) throw new CorruptRecordError('varint is longer than 5 bytes')
    b = data[at++]!
    v |= (b & 0x7f) << shift
  }
  value = (v >>> 1) ^ -(v & 1)
  return at
}

/**
 * A zigzag varlong. One byte is read inline; up to 4 bytes (28 bits: timestamp deltas within a batch up
 * to ±1.5 days) in int32 arithmetic; longer ones go through the codec's exact reader.
 */
function varlong(data: Buffer, at: Position, end: Position): Position {
  if (at < end) {
    const b = data[at]!
    if (b < 0x80) {
      value = (b >>> 1) ^ -(b & 1)
      return at + 1
    }
  }
  return longVarlong(data, at, end)
}

function longVarlong(data: Buffer, at: Position, end: Position): Position {
  let v = 0
  for (let i = 0, shift = 0; i < 4 && at + i < end; i++, shift += 7) {
    const b = data[at + i]!
    v |= (b & 0x7f) << shift
    if (b < 0x80) {
      value = (v >>> 1) ^ -(v & 1)
      return at + i + 1
    }
  }
  const cursor = { pos: at, end }
  value = readVarlong(data, cursor)
  return cursor.pos
}

/** Checks a varint length and that many bytes (none for a negative length, as Kafka reads `< 0`); returns the position after them. */
function skipBytes(data: Buffer, at: Position, end: Position): Position {
  at = varint(data, at, end)
  const length = value
  if (length < 0) return at
  if (at + length > end) throw new CorruptRecordError(`a ${length}-byte field runs past the end of its record`)
  return at + length
}

/** Checks the header count and every header's key and value lengths; returns the position after the headers. */
function skipHeaders(data: Buffer, at: Position, end: Position): Position {
  at = varint(data, at, end)
  const count = value
  if (count === 0) return at
  if (count < 0 || count > end - at) throw new CorruptRecordError(`invalid header count ${count}`)
  for (let h = 0; h < count; h++) {
    at = varint(data, at, end)
    const keyLength = value
    if (keyLength < 0 || at + keyLength > end) throw new CorruptRecordError(`invalid header key length ${keyLength}`)
    at = skipBytes(data, at + keyLength, end)
  }
  return at
}

function pastEnd(end: Position): CorruptRecordError {
  return new CorruptRecordError(`a varint runs past the end of its record (byte ${end})`)
}

function corrupt(problem: string, baseOffset: Offset, pos: Position, target: DecodeTarget, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Record batch at offset ${baseOffset} ${problem}`, { ...target.context, position: pos, baseOffset }, cause)
}

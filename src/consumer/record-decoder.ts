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
import { MAGIC, RECORDS_OFFSET, readBatchHeader, type BatchHeader } from '../codec/record-batch'
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
  const header = readBatchHeader(buf, pos)
  if (header.magic !== MAGIC) throw corrupt(`has magic ${header.magic}, expected ${MAGIC}`, header, pos, target)
  const count = header.recordsCount
  if (count === 0) return into
  const batchEnd = pos + header.sizeInBytes
  let data = buf
  let start = pos + RECORDS_OFFSET
  if (header.compression !== 'none') {
    data = decompress(header.compression, buf.subarray(start, batchEnd), maxDecompressedBytes, { ...target.context, position: pos })
    start = 0
  }
  const dataEnd = header.compression === 'none' ? batchEnd : data.length
  if (count < 0 || count > (dataEnd - start) / MIN_RECORD_BYTES) throw corrupt(`declares ${count} records, which cannot fit in ${dataEnd - start} bytes`, header, pos, target)
  const before = into.length
  const { topic, partition } = target
  const { baseOffset, baseTimestamp, maxTimestamp } = header
  const logAppendTime = header.timestampType === 'LogAppendTime'
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
    throw corrupt(`holds a corrupt record: ${e.message}`, header, pos, target, e)
  }
  if (at !== dataEnd) {
    into.length = before
    throw corrupt(`has ${dataEnd - at} bytes after its ${count} records (incorrect declared batch size)`, header, pos, target)
  }
  return into
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

function corrupt(problem: string, header: BatchHeader, pos: Position, target: DecodeTarget, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Record batch at offset ${header.baseOffset} ${problem}`, { ...target.context, position: pos, baseOffset: header.baseOffset }, cause)
}

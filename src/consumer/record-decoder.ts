/**
 * Decoding one batch's records into ConsumerRecords: the consumer's hot path.
 *
 * The record layout is the codec's (the `DefaultRecord` table in src/codec/record-batch.ts); this is a
 * second reader of it, kept for speed:
 * - one object per record (a LazyRecord, lazy-record.ts), and none for records below the fetch
 *   position. Offset and timestamp are decoded here; key, value and headers are made when first read,
 *   as views made by `bufferView` (buffer-view.ts), not by `Buffer#subarray`;
 * - varints are read through a module-level cursor with a one-byte fast path, not a cursor object.
 *
 * It checks what the codec's reader checks (each record consumes exactly its declared length, fields
 * stay inside their record, header counts fit, varints are at most 5 bytes, nothing follows the last
 * record), walking every field of every record of the batch before it returns any, so a corrupt batch
 * is ERR_CORRUPT_RECORD here, at poll time, even though the fields are materialised later. CRCs are not
 * checked: the log checked them when the batch was appended or recovered, and Kafka's fetch path trusts
 * the log the same way.
 *
 * Concurrency: `decodeBatch` is synchronous and not re-entrant; the module-level cursor (`at`, `end`)
 * is only valid during one call.
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
const NO_RECORDS = Object.freeze([]) as readonly ConsumerRecord[]

export interface DecodeTarget {
  readonly topic: string
  readonly partition: number
  readonly context: ErrorContext
}

/** The cursor: the next byte to read, and the end of the record (or batch) being read. */
let at = 0
let end = 0

/**
 * The records of the batch at `pos` with offsets ≥ `fromOffset`. Compressed records are inflated up to
 * `maxDecompressedBytes` (ERR_DECOMPRESSION_LIMIT past it). Under LOG_APPEND_TIME every record's
 * timestamp is the batch's maxTimestamp.
 *
 * Assumes: the whole batch is inside `buf` (PartitionLog.read returns whole batches).
 */
export function decodeBatch(buf: Buffer, pos: Position, fromOffset: Offset, maxDecompressedBytes: number, target: DecodeTarget): readonly ConsumerRecord[] {
  const header = readBatchHeader(buf, pos)
  if (header.magic !== MAGIC) throw corrupt(`has magic ${header.magic}, expected ${MAGIC}`, header, pos, target)
  const count = header.recordsCount
  if (count === 0) return NO_RECORDS
  const batchEnd = pos + header.sizeInBytes
  let data = buf
  let start = pos + RECORDS_OFFSET
  if (header.compression !== 'none') {
    data = decompress(header.compression, buf.subarray(start, batchEnd), maxDecompressedBytes, { ...target.context, position: pos })
    start = 0
  }
  const dataEnd = header.compression === 'none' ? batchEnd : data.length
  if (count < 0 || count > (dataEnd - start) / MIN_RECORD_BYTES) throw corrupt(`declares ${count} records, which cannot fit in ${dataEnd - start} bytes`, header, pos, target)
  const records: ConsumerRecord[] = []
  const { topic, partition } = target
  const { baseOffset, baseTimestamp, maxTimestamp } = header
  const logAppendTime = header.timestampType === 'LogAppendTime'
  const bytes = new RecordBytes(data)
  at = start
  try {
    for (let i = 0; i < count; i++) {
      end = dataEnd
      const length = varint(data)
      const recordEnd = at + length
      if (length < 1 || recordEnd > dataEnd) throw new CorruptRecordError(`record ${i} has invalid length ${length}`)
      end = recordEnd
      at++ // attributes, unused
      const timestampDelta = varlong(data)
      const offset = baseOffset + varint(data)
      if (offset < fromOffset) {
        at = recordEnd
        continue
      }
      if (offset > Number.MAX_SAFE_INTEGER) throw new CorruptRecordError(`offset ${offset} exceeds 2^53 - 1`)
      const keyAt = at
      skipBytes(data) // key
      skipBytes(data) // value
      skipHeaders(data)
      if (at !== recordEnd) throw new CorruptRecordError(`record at offset ${offset} declares ${length} bytes but its fields take ${length - recordEnd + at}`)
      records.push(new LazyRecord(topic, partition, offset, logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta, bytes, keyAt))
    }
  } catch (e) {
    if (!(e instanceof CorruptRecordError)) throw e
    throw corrupt(`holds a corrupt record: ${e.message}`, header, pos, target, e)
  }
  if (at !== dataEnd) throw corrupt(`has ${dataEnd - at} bytes after its ${count} records (incorrect declared batch size)`, header, pos, target)
  return records
}

/**
 * A zigzag varint (int32), at most 5 bytes, inside the current record. One- and two-byte varints (up to
 * ±8191: the lengths and offset deltas of records up to 8 KiB) are read inline; small, so V8 inlines it.
 */
function varint(data: Buffer): number {
  if (at + 1 < end) {
    const b = data[at]!
    if (b < 0x80) {
      at++
      return (b >>> 1) ^ -(b & 1)
    }
    const b2 = data[at + 1]!
    if (b2 < 0x80) {
      at += 2
      const value = (b & 0x7f) | (b2 << 7)
      return (value >>> 1) ^ -(value & 1)
    }
  }
  return longVarint(data)
}

function longVarint(data: Buffer): number {
  if (at >= end) throw pastEnd()
  let b = data[at++]!
  if (b < 0x80) return (b >>> 1) ^ -(b & 1)
  let value = b & 0x7f
  for (let shift = 7; ; shift += 7) {
    if (at >= end) throw pastEnd()
    if (shift > 28) throw new CorruptRecordError('varint is longer than 5 bytes')
    b = data[at++]!
    if (b < 0x80) {
      value |= b << shift
      return (value >>> 1) ^ -(value & 1)
    }
    value |= (b & 0x7f) << shift
  }
}

/**
 * A zigzag varlong. Up to 4 bytes (28 bits: timestamp deltas within a batch up to ±1.5 days) are read
 * inline in int32 arithmetic; longer ones go through the codec's exact reader.
 */
function varlong(data: Buffer): number {
  let value = 0
  for (let i = 0, shift = 0; i < 4 && at + i < end; i++, shift += 7) {
    const b = data[at + i]!
    value |= (b & 0x7f) << shift
    if (b < 0x80) {
      at += i + 1
      return (value >>> 1) ^ -(value & 1)
    }
  }
  const cursor = { pos: at, end }
  value = readVarlong(data, cursor)
  at = cursor.pos
  return value
}

/** Checks a varint length and that many bytes (none for a negative length, as Kafka reads `< 0`), and skips them. */
function skipBytes(data: Buffer): void {
  const length = varint(data)
  if (length < 0) return
  if (at + length > end) throw new CorruptRecordError(`a ${length}-byte field runs past the end of its record`)
  at += length
}

/** Checks the header count and every header's key and value lengths, and skips the headers. */
function skipHeaders(data: Buffer): void {
  const count = varint(data)
  if (count === 0) return
  if (count < 0 || count > end - at) throw new CorruptRecordError(`invalid header count ${count}`)
  for (let h = 0; h < count; h++) {
    const keyLength = varint(data)
    if (keyLength < 0 || at + keyLength > end) throw new CorruptRecordError(`invalid header key length ${keyLength}`)
    at += keyLength
    skipBytes(data)
  }
}

function pastEnd(): CorruptRecordError {
  return new CorruptRecordError(`a varint runs past the end of its record (byte ${end})`)
}

function corrupt(problem: string, header: BatchHeader, pos: Position, target: DecodeTarget, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Record batch at offset ${header.baseOffset} ${problem}`, { ...target.context, position: pos, baseOffset: header.baseOffset }, cause)
}

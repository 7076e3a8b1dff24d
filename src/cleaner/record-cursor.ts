/**
 * Reads the records of one batch without building objects: the cleaner only needs each record's
 * extent, offset, timestamp, where its key is, and whether its value is null. The record format is
 * documented once, in codec/record-batch.ts; this cursor reads the same fields in the same order:
 *
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value | headers…
 *
 * A record's bytes (length prefix included) depend only on the batch's baseOffset and baseTimestamp,
 * which compaction keeps, so a retained record can be copied into the rewritten batch byte for byte.
 *
 * The cursor trusts nothing it does not need: every length is bounds-checked, and a record that runs past
 * its batch is a CorruptRecordError (batches were CRC-checked when they entered the log).
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  DELETE_HORIZON_FLAG_MASK,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  readBaseOffset,
  readInt64Number,
  readMaxTimestamp,
} from '../codec/record-batch'
import { decompress, compressionCodecFromId, type CompressionCodec } from '../codec/compression/index'
import { readVarint, readVarlong, type Cursor } from '../codec/varint'
import { CorruptRecordError, type ErrorContext } from '../errors/index'
import type { Offset, Position, TimestampMs } from '../util/types'

/** The records section of a batch, decompressed if needed. */
export interface RecordsView {
  data: Buffer
  start: Position
  end: Position
  count: number
  codec: CompressionCodec
}

/** The header fields the cleaner reads, from a batch at `pos` in `buf`. */
export interface BatchFacts {
  baseOffset: Offset
  attributes: number
  isControl: boolean
  hasDeleteHorizon: boolean
  logAppendTime: boolean
  baseTimestamp: TimestampMs
  maxTimestamp: TimestampMs
  count: number
}

/**
 * Reads the header fields of the batch at `pos` into `into` (a new object if omitted). The passes of a
 * round reuse one object per call site: a fresh object per batch, with its timestamps boxed as heap
 * numbers, was a good part of the cleaner's garbage.
 */
export function batchFacts(buf: Buffer, pos: Position, into?: BatchFacts): BatchFacts {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const facts = into ?? emptyFacts()
  facts.baseOffset = readBaseOffset(buf, pos)
  facts.attributes = attributes
  facts.isControl = (attributes & CONTROL_FLAG_MASK) !== 0
  facts.hasDeleteHorizon = (attributes & DELETE_HORIZON_FLAG_MASK) !== 0
  facts.logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
  facts.baseTimestamp = readInt64Number(buf, pos + BASE_TIMESTAMP_OFFSET)
  facts.maxTimestamp = readMaxTimestamp(buf, pos)
  facts.count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  return facts
}

export function emptyFacts(): BatchFacts {
  // The timestamps start as doubles (0.5), not small integers, so that V8 gives those fields a double
  // representation from the start: storing a millisecond timestamp (past the small-integer range) then
  // overwrites the field in place instead of allocating a heap number per batch.
  return { baseOffset: 0, attributes: 0, isControl: false, hasDeleteHorizon: false, logAppendTime: false, baseTimestamp: 0.5, maxTimestamp: 0.5, count: 0 }
}

/**
 * The records of the batch `buf[pos, pos+size)`, inflated when the batch is compressed, in `into` (a
 * new object if omitted).
 */
export function recordsOf(buf: Buffer, pos: Position, size: number, maxDecompressedBytes: number, context: ErrorContext, into?: RecordsView): RecordsView {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const codec = compressionCodecFromId(attributes & COMPRESSION_CODEC_MASK)
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  if (codec === undefined) throw new CorruptRecordError(`Batch at offset ${readBaseOffset(buf, pos)} has unknown compression ${attributes & COMPRESSION_CODEC_MASK}`, context)
  const view = into ?? { data: buf, start: 0, end: 0, count: 0, codec }
  view.count = count
  view.codec = codec
  if (codec === 'none' || count === 0) {
    view.data = buf
    view.start = pos + RECORDS_OFFSET
    view.end = pos + size
  } else {
    view.data = decompress(codec, buf.subarray(pos + RECORDS_OFFSET, pos + size), maxDecompressedBytes, context)
    view.start = 0
    view.end = view.data.length
  }
  return view
}

/**
 * Steps through the records of a batch, exposing the current record's fields (a cursor rather than a
 * callback, so that each call site stays monomorphic and the loop is inlined: this runs once per record
 * in both passes of a round). Under LogAppendTime every record's timestamp is the batch's maxTimestamp,
 * as readers see it.
 *
 *   const records = new RecordCursor()
 *   records.reset(view, facts)
 *   while (records.next()) use(records.offset, records.keyStart, ...)
 */
export class RecordCursor {
  /** [start, end) of the current record in `data`, length prefix included. */
  start: Position = 0
  end: Position = 0
  offset: Offset = 0
  /**
   * The current record's timestamp delta; `timestamp` adds the base. Kept apart because a delta is a
   * small integer, while storing a whole timestamp (a double beyond the small-integer range) per record
   * allocated a heap number per record: half of the cleaner's garbage, and young-generation GC pauses
   * that appends then wait for.
   */
  timestampDelta = 0
  /** Position of the key in `data`, or -1 for a null key. */
  keyStart: Position = -1
  keyEnd: Position = -1
  valueIsNull = false
  data: Buffer = EMPTY
  private readonly cursor: Cursor = { pos: 0, end: 0 }
  private remaining = 0
  private viewEnd = 0
  private baseOffset: Offset = 0
  private baseTimestamp: TimestampMs = 0
  private fixedTimestamp: TimestampMs | undefined

  reset(view: RecordsView, facts: BatchFacts): this {
    this.data = view.data
    this.cursor.pos = view.start
    this.viewEnd = view.end
    this.remaining = view.count
    this.baseOffset = facts.baseOffset
    this.baseTimestamp = facts.baseTimestamp
    this.fixedTimestamp = facts.logAppendTime ? facts.maxTimestamp : undefined
    return this
  }

  /** Moves to the next record; false after the last (having checked that nothing follows it). */
  next(): boolean {
    const cursor = this.cursor
    if (this.remaining === 0) {
      if (cursor.pos !== this.viewEnd) throw this.corrupt(`${this.viewEnd - cursor.pos} bytes follow the last record`)
      return false
    }
    this.remaining--
    const data = this.data
    const start = cursor.pos
    cursor.end = this.viewEnd
    const length = readVarint(data, cursor)
    const end = cursor.pos + length
    if (length < 1 || end > this.viewEnd) throw this.corrupt(`invalid record length ${length}`)
    cursor.end = end
    cursor.pos++ // attributes, unused in v2
    const timestampDelta = readVarlong(data, cursor)
    const offsetDelta = readVarint(data, cursor)
    const keyLength = readVarint(data, cursor)
    const keyStart = keyLength < 0 ? -1 : cursor.pos
    if (keyLength > 0) cursor.pos += keyLength
    if (cursor.pos > end) throw this.corrupt(`a key of ${keyLength} bytes runs past its record`)
    const valueLength = readVarint(data, cursor)
    this.start = start
    this.end = end
    this.offset = this.baseOffset + offsetDelta
    this.timestampDelta = timestampDelta
    this.keyStart = keyStart
    this.keyEnd = keyStart < 0 ? -1 : keyStart + keyLength
    this.valueIsNull = valueLength < 0
    cursor.pos = end
    return true
  }

  /** The current record's timestamp (under LogAppendTime, the batch's maxTimestamp). */
  get timestamp(): TimestampMs {
    return this.fixedTimestamp ?? this.baseTimestamp + this.timestampDelta
  }

  private corrupt(what: string): CorruptRecordError {
    return new CorruptRecordError(`A record of the batch at offset ${this.baseOffset} is corrupt: ${what}`, { offset: this.baseOffset })
  }
}

const EMPTY = Buffer.alloc(0)

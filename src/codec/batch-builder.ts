/**
 * Building a RecordBatch v2 one record at a time (Kafka's `MemoryRecordsBuilder`): each record is
 * written into the batch's buffer as it is added, so its bytes are copied once, from the caller's
 * Buffer or string straight into the batch. Closing the batch (`build`) writes the 61-byte header and
 * the CRC-32C over what is already there, or, for a compressed batch, compresses the records section.
 * The layout is record-batch.ts's, and the bytes equal what `encodeRecordBatch` writes for the same
 * records and header fields (test/codec/batch-builder.test.ts compares them).
 *
 * `encodeRecordBatch` takes all records at once and makes a sizing pass before writing; a builder
 * cannot size ahead, so the caller hands it each record's `fieldsBytes` (the key, value and headers
 * fields, see {@link recordFieldsSize}), which it computed anyway to check the record's size and reserve
 * its memory. The varints that depend on the record's position (length, offsetDelta, timestampDelta)
 * are the builder's. A record whose fields do not take exactly `fieldsBytes` is our bug (an assertion).
 *
 * Timestamps: baseTimestamp is the first record's timestamp and each record stores its delta from it,
 * as Kafka's builder does (and `encodeRecordBatch`); maxTimestamp is the largest record timestamp.
 * Offsets: baseOffset is written as 0 (the log assigns the real one on append, which the CRC does not
 * cover), and record i has offsetDelta i.
 *
 * Memory: the buffer starts at the capacity the caller expects to fill and doubles (up to
 * `maxCapacity`, or more for a single record that needs it) when a record does not fit. `build` returns
 * a view of it, or a right-sized copy when more than half of it would sit unused, so a batch kept
 * around (for retries, or while waiting for an fsync) never pins much more memory than its bytes.
 */
import { assert } from '../util/assert'
import type { TimestampMs } from '../util/types'
import { compress, compressionCodecId, type CompressionCodec } from './compression/index'
import { crc32c } from './crc32c'
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
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  checkBatchLength,
  checkedCompressionCodec,
  checkProducerFields,
  decodeRecords,
  writeInt64,
  type Record,
} from './record-batch'
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint'

/** Record bytes as a builder takes them: written as they are, a string as UTF-8; null is a null field. */
export type BuilderBytes = Uint8Array | string | null

export interface BuilderHeader {
  readonly key: string
  readonly value: BuilderBytes
}

/** The header fields of a producer batch that `build` writes (the rest follows from the records). */
export interface BuildOptions {
  /** Default 'none'. */
  compression?: CompressionCodec
  /** Default -1 (none). */
  producerId?: number
  /** Default -1 (none). */
  producerEpoch?: number
  /** Default -1 (none). */
  baseSequence?: number
}

const INT32_MAX = 0x7fffffff
const NO_HEADERS: readonly BuilderHeader[] = Object.freeze([])

/** The bytes of a key or value field: its length varint (-1 for null) and its bytes. */
export function bytesFieldSize(bytes: BuilderBytes): number {
  if (bytes === null) return 1
  const length = typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length
  return sizeOfVarint(length) + length
}

/**
 * The bytes of a record's key, value and headers fields (header count included): everything of the
 * record that does not depend on its position in the batch.
 */
export function recordFieldsSize(key: BuilderBytes, value: BuilderBytes, headers: readonly BuilderHeader[] | undefined): number {
  let size = bytesFieldSize(key) + bytesFieldSize(value)
  if (headers === undefined) return size + 1
  size += sizeOfVarint(headers.length)
  for (const h of headers) {
    const keyBytes = Buffer.byteLength(h.key, 'utf8')
    size += sizeOfVarint(keyBytes) + keyBytes + bytesFieldSize(h.value)
  }
  return size
}

/**
 * The bytes a record takes in a batch, length varint included, at `offsetDelta` and `timestampDelta`
 * (a safe integer) from the batch's base.
 */
export function recordSizeInBatch(fieldsBytes: number, offsetDelta: number, timestampDelta: number): number {
  const body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + fieldsBytes
  return sizeOfVarint(body) + body
}

// Deltas whose varints take the most bytes: 5 for an int32 offset delta, 8 for the largest timestamp
// delta between two safe-integer timestamps.
const LARGEST_POSITION_BYTES = 1 + sizeOfVarlong(-Number.MAX_SAFE_INTEGER) + sizeOfVarint(INT32_MAX)

/** An upper bound of the bytes a record with these fields takes in any batch, at any position. */
export function maxRecordSizeInBatch(fieldsBytes: number): number {
  const body = LARGEST_POSITION_BYTES + fieldsBytes
  return sizeOfVarint(body) + body
}

export class BatchBuilder {
  private buf: Buffer
  /** Where the next record goes: the batch's size so far. */
  private pos = RECORDS_OFFSET
  private count = 0
  private baseTimestamp: TimestampMs = 0
  private maxTimestamp: TimestampMs = 0
  private built = false

  /**
   * `initialCapacity`: the batch size expected (header included). `maxCapacity`: the most the buffer
   * grows to by doubling; a record that needs more still gets it.
   */
  constructor(
    initialCapacity: number,
    private readonly maxCapacity: number = Number.MAX_SAFE_INTEGER,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(RECORD_BATCH_OVERHEAD, initialCapacity))
  }

  /** The batch's size if it were built now without compression. */
  get sizeInBytes(): number {
    return this.pos
  }

  get recordCount(): number {
    return this.count
  }

  /** The exact bytes the next record would add, given its fields' size and its timestamp. */
  sizeOfNext(fieldsBytes: number, timestamp: TimestampMs): number {
    return recordSizeInBatch(fieldsBytes, this.count, this.count === 0 ? 0 : timestamp - this.baseTimestamp)
  }

  /**
   * Writes a record as the batch's next one, unless the batch would then exceed `maxSize` bytes: then
   * it writes nothing and returns false (the caller closes the batch; sizing and writing the record in
   * one call computes its size once). `timestamp` is a safe integer (CreateTime) and `fieldsBytes` is
   * `recordFieldsSize(key, value, headers)`; the caller has checked both.
   */
  append(
    timestamp: TimestampMs,
    key: BuilderBytes,
    value: BuilderBytes,
    headers: readonly BuilderHeader[] | undefined,
    fieldsBytes: number,
    maxSize: number = Number.MAX_SAFE_INTEGER,
  ): boolean {
    assert(!this.built, 'append to a built batch')
    const first = this.count === 0
    const timestampDelta = first ? 0 : timestamp - this.baseTimestamp
    const offsetDelta = this.count
    const body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + fieldsBytes
    const end = this.pos + sizeOfVarint(body) + body
    if (end > maxSize) return false
    if (end > this.buf.length) this.grow(end)
    const buf = this.buf
    let pos = writeVarint(buf, this.pos, body)
    const bodyStart = pos
    buf[pos++] = 0 // record attributes, unused
    pos = writeVarlong(buf, pos, timestampDelta)
    pos = writeVarint(buf, pos, offsetDelta)
    pos = writeBytesField(buf, pos, key)
    pos = writeBytesField(buf, pos, value)
    const list = headers ?? NO_HEADERS
    pos = writeVarint(buf, pos, list.length)
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!
      const keyBytes = Buffer.byteLength(h.key, 'utf8')
      pos = writeVarint(buf, pos, keyBytes)
      pos += buf.write(h.key, pos, keyBytes, 'utf8')
      pos = writeBytesField(buf, pos, h.value)
    }
    // Checked before `pos` moves: a wrong fieldsBytes would otherwise corrupt the batch silently.
    if (pos !== end) assert(false, `record ${offsetDelta} wrote ${pos - bodyStart} body bytes, sized ${body}`)
    this.pos = end
    this.count++
    if (first) {
      this.baseTimestamp = timestamp
      this.maxTimestamp = timestamp
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp
    }
    return true
  }

  /**
   * Closes the batch: writes its header and CRC (compressing the records first when asked) and returns
   * the complete batch. Called once; the records stay readable with {@link records}.
   */
  build(options: BuildOptions = {}): Buffer {
    assert(!this.built, 'a batch is built once')
    assert(this.count > 0, 'a producer batch has at least one record')
    const codec = checkedCompressionCodec(options.compression ?? 'none')
    const producerId = options.producerId ?? NO_PRODUCER_ID
    const producerEpoch = options.producerEpoch ?? NO_PRODUCER_EPOCH
    const baseSequence = options.baseSequence ?? NO_SEQUENCE
    checkProducerFields(producerId, producerEpoch, baseSequence)
    this.built = true
    const compressed = codec === 'none' ? undefined : compress(codec, this.buf.subarray(RECORDS_OFFSET, this.pos))
    const size = compressed === undefined ? this.pos : RECORD_BATCH_OVERHEAD + compressed.length
    checkBatchLength(size)
    let batch = this.buf
    if (compressed !== undefined) {
      // Uninitialised: the header and the compressed records write every byte.
      batch = Buffer.allocUnsafe(size)
      compressed.copy(batch, RECORDS_OFFSET)
    }
    this.writeHeader(batch, size, compressionCodecId(codec), producerId, producerEpoch, baseSequence)
    if (compressed !== undefined) return batch
    // More than half of the buffer unused (a batch closed early): keep a right-sized copy instead.
    if (this.buf.length - size > size) return Buffer.from(this.buf.subarray(0, size))
    return this.buf.subarray(0, size)
  }

  /**
   * The records added so far, decoded (keys, values and header values are views into a copy of the
   * builder's buffer). For re-batching the records of a batch that came out too large.
   */
  records(): Record[] {
    // A copy with an uncompressed header of its own, for the decoder: the built batch may be a view of
    // this buffer, whose header must not change. (Only a batch being split comes here.)
    const copy = Buffer.from(this.buf.subarray(0, this.pos))
    this.writeHeader(copy, this.pos, 0, NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_SEQUENCE)
    return decodeRecords(copy, 0, { maxDecompressedBytes: this.pos })
  }

  private writeHeader(batch: Buffer, size: number, attributes: number, producerId: number, producerEpoch: number, baseSequence: number): void {
    writeInt64(batch, BASE_OFFSET_OFFSET, 0)
    batch.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET)
    batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET)
    batch.writeInt8(MAGIC, MAGIC_OFFSET)
    batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET)
    batch.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET)
    writeInt64(batch, BASE_TIMESTAMP_OFFSET, this.baseTimestamp)
    writeInt64(batch, MAX_TIMESTAMP_OFFSET, this.maxTimestamp)
    writeInt64(batch, PRODUCER_ID_OFFSET, producerId)
    batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET)
    batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET)
    batch.writeInt32BE(this.count, RECORDS_COUNT_OFFSET)
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET, size)), CRC_OFFSET)
  }

  private grow(needed: number): void {
    const capacity = Math.max(needed, Math.min(this.buf.length * 2, this.maxCapacity))
    const next = Buffer.allocUnsafe(capacity)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
}

function writeBytesField(buf: Buffer, pos: number, bytes: BuilderBytes): number {
  if (bytes === null) {
    buf[pos] = 1 // zigzag(-1)
    return pos + 1
  }
  if (typeof bytes === 'string') {
    const length = Buffer.byteLength(bytes, 'utf8')
    pos = writeVarint(buf, pos, length)
    return pos + buf.write(bytes, pos, length, 'utf8')
  }
  pos = writeVarint(buf, pos, bytes.length)
  buf.set(bytes, pos)
  return pos + bytes.length
}

/**
 * The ConsumerRecord a consumer hands out: offset and timestamp decoded at poll time, key, value and
 * headers made on first access. Why lazy: a scan that reads only values then pays for one object and
 * one value view per record; making the key view and decoding the headers of every record as well
 * cost about as much again (measured on Node 20 with 100-byte values).
 *
 * Guarantees:
 * - `key`, `value` and header values are views of the read (buffer-view.ts), made once and cached, so a
 *   second access returns the same Buffer, and they stay valid for as long as the application holds the
 *   record or the view: the bytes under them are never reused or rewritten (PartitionLog.read returns a
 *   new Buffer per read to the consumer, and a decompressed batch is a new Buffer too).
 * - A corrupt record is ERR_CORRUPT_RECORD from the poll that reaches its batch: record-decoder.ts
 *   walks every field of every record (lengths, varints, header counts) before it makes the records, so
 *   the accessors here read fields that are known to be well-formed and cannot fail.
 * - Every field can be assigned, as on a plain object.
 *
 * Shape: `key`, `value` and `headers` are accessors on the prototype, not own properties. Own
 * enumerable properties are `topic`, `partition`, `offset` and `timestamp`; `JSON.stringify` (through
 * `toJSON`) and `util.inspect` show all seven fields, but `{ ...record }`, `Object.keys` and
 * `structuredClone` see only those four. The private fields (`#…`) are invisible to all of them.
 */
import type { RecordHeader } from '../codec/record-batch'
import type { Offset, Position, TimestampMs } from '../util/types'
import { bufferView } from './buffer-view'
import type { ConsumerRecord } from './types'

const NO_HEADERS = Object.freeze([]) as unknown as RecordHeader[]

/** The bytes a batch's records lie in (the read, or the batch's decompressed records), shared by them. */
export class RecordBytes {
  readonly data: Buffer
  readonly arrayBuffer: ArrayBuffer
  readonly byteOffset: number

  constructor(data: Buffer) {
    this.data = data
    this.arrayBuffer = data.buffer as ArrayBuffer
    this.byteOffset = data.byteOffset
  }
}

export class LazyRecord implements ConsumerRecord {
  // Assigned in the constructor rather than declared as class fields: a declared field is defined
  // (Object.defineProperty semantics), which V8 makes measurably slower than a plain store.
  declare topic: string
  declare partition: number
  declare offset: Offset
  declare timestamp: TimestampMs
  readonly #bytes: RecordBytes
  /** Where the key's length varint is in `#bytes.data`; value and headers follow it. */
  readonly #at: Position
  /** undefined: not made yet (null is a real key or value). */
  #key: Buffer | null | undefined = undefined
  #value: Buffer | null | undefined = undefined
  #headers: RecordHeader[] | undefined = undefined

  constructor(topic: string, partition: number, offset: Offset, timestamp: TimestampMs, bytes: RecordBytes, at: Position) {
    this.#bytes = bytes
    this.#at = at
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.timestamp = timestamp
  }

  get key(): Buffer | null {
    let key = this.#key
    if (key === undefined) key = this.#key = bytesAt(this.#bytes, this.#at)
    return key
  }

  set key(key: Buffer | null) {
    this.#key = key
  }

  get value(): Buffer | null {
    let value = this.#value
    if (value === undefined) value = this.#value = bytesAt(this.#bytes, skipBytesAt(this.#bytes.data, this.#at))
    return value
  }

  set value(value: Buffer | null) {
    this.#value = value
  }

  get headers(): RecordHeader[] {
    let headers = this.#headers
    if (headers === undefined) {
      const data = this.#bytes.data
      headers = this.#headers = headersAt(this.#bytes, skipBytesAt(data, skipBytesAt(data, this.#at)))
    }
    return headers
  }

  set headers(headers: RecordHeader[]) {
    this.#headers = headers
  }

  /** The seven fields, as a plain object: what JSON.stringify showed when records were plain objects. */
  toJSON(): ConsumerRecord {
    const { topic, partition, offset, timestamp, key, value, headers } = this
    return { topic, partition, offset, timestamp, key, value, headers }
  }

  /** console.log and util.inspect show the seven fields too (Node's documented hook, no import needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): ConsumerRecord {
    return this.toJSON()
  }
}

// The readers below trust the bytes: record-decoder.ts checked every length and varint of the record
// before the record was made. `after` is where the last varint read ended.
let after = 0

function zigzagAt(data: Buffer, pos: Position): number {
  let b = data[pos++]!
  let value = b & 0x7f
  for (let shift = 7; b >= 0x80; shift += 7) {
    b = data[pos++]!
    value |= (b & 0x7f) << shift
  }
  after = pos
  return (value >>> 1) ^ -(value & 1)
}

/** A length-prefixed bytes field at `pos` as a view (null for a negative length). */
function bytesAt(bytes: RecordBytes, pos: Position): Buffer | null {
  const length = zigzagAt(bytes.data, pos)
  return length < 0 ? null : bufferView(bytes.arrayBuffer, bytes.byteOffset + after, length)
}

/** The position after the length-prefixed bytes field at `pos`. */
function skipBytesAt(data: Buffer, pos: Position): Position {
  const length = zigzagAt(data, pos)
  return length < 0 ? after : after + length
}

function headersAt(bytes: RecordBytes, pos: Position): RecordHeader[] {
  const data = bytes.data
  const count = zigzagAt(data, pos)
  if (count === 0) return NO_HEADERS
  pos = after
  const headers = new Array<RecordHeader>(count)
  for (let h = 0; h < count; h++) {
    const keyLength = zigzagAt(data, pos)
    const key = data.toString('utf8', after, after + keyLength)
    pos = after + keyLength
    headers[h] = { key, value: bytesAt(bytes, pos) }
    pos = skipBytesAt(data, pos)
  }
  return headers
}

/**
 * What a caller hands to `send`, and the check of a whole call's records before any of them is buffered
 * (Kafka's serialization step in `KafkaProducer.doSend`, which also sizes the record).
 *
 * A checked call is kept as parallel arrays indexed by the record's position in the call (which is its
 * position in the call's results), not as an object per record: a send of a few hundred records then
 * allocates a handful of arrays. Keys, values and header values are kept as the caller gave them and
 * written straight into their batch's buffer when the call is buffered, synchronously inside `send`
 * (codec/batch-builder.ts): one copy, and the caller may reuse or change its buffers as soon as `send`
 * returns. When the call must wait before it is buffered (for buffer memory, or for a topic to be
 * created), `copyBytes` first takes private copies of every Buffer and Uint8Array, so that guarantee
 * holds across the wait. (Strings are immutable and need no copy.)
 *
 * `bufferMemory` accounts each record at `maxRecordSizeInBatch`, an upper bound of its bytes in any
 * batch, reserved for the whole call at once.
 */
import { maxRecordSizeInBatch, recordFieldsSize, type BuilderBytes, type BuilderHeader } from '../codec/batch-builder'
import { describeValue, InvalidArgumentError, type ErrorContext } from '../errors/index'
import type { Offset, TimestampMs } from '../util/types'

/** Record bytes: a Buffer or Uint8Array as is, a string as UTF-8. */
export type RecordBytes = Buffer | Uint8Array | string
export type HeaderValue = RecordBytes | null
/** Headers as an object (an array value repeats the key, as kafkajs allows) or as a list of pairs. */
export type RecordHeaders = { readonly [key: string]: HeaderValue | readonly HeaderValue[] } | ReadonlyArray<{ key: string; value: HeaderValue }>

export interface ProducerRecord {
  /** The record key; null or absent for none. Keyed records go to `murmur2(key) % partitions`. */
  key?: RecordBytes | null
  /** The value; null is a tombstone (deletes the key in a compacted topic). */
  value: RecordBytes | null
  headers?: RecordHeaders
  /** An explicit partition, which wins over the partitioner. */
  partition?: number
  /** CreateTime in ms since the epoch; default: the clock's now() at send. */
  timestamp?: TimestampMs
}

/** The outcome of one record (Kafka's RecordMetadata). */
export interface RecordMetadata {
  topic: string
  partition: number
  /** The record's offset; -1 with `acks: 0`, which does not wait for the append. */
  offset: Offset
  /** CreateTime, or the log's append time on a LogAppendTime topic (acks 1 and 'all'). */
  timestamp: TimestampMs
}

/** One topic's records in a `sendBatch` call. */
export interface TopicMessages {
  topic: string
  messages: readonly ProducerRecord[]
}

/** The records of one topic in a checked call: positions [start, end) of the call. */
export interface CheckedGroup {
  readonly topic: string
  readonly start: number
  readonly end: number
}

/** No explicit partition (in `partitions`), or no fixed choice: chosen when the record is buffered. */
export const NO_PARTITION = -1

/** The records of one `send`/`sendBatch` call, checked, in call order. */
export class CheckedRecords {
  readonly count: number
  readonly keys: BuilderBytes[]
  readonly values: BuilderBytes[]
  /** Each record's headers as pairs (undefined: none); the array itself only when some record has headers. */
  headers: (BuilderHeader[] | undefined)[] | undefined
  readonly timestamps: number[]
  /** The explicit partition, or NO_PARTITION; the producer then stores its fixed choices here. */
  readonly partitions: number[]
  /** `recordFieldsSize` of each record: the bytes of its key, value and headers fields. */
  readonly fieldsBytes: number[]
  /** `maxRecordSizeInBatch` of each record: what it holds of the buffer memory. */
  readonly maxBytes: number[]
  /** The sum of `maxBytes`: what the call reserves. */
  totalMaxBytes = 0
  private copied = false

  private constructor(
    readonly groups: readonly CheckedGroup[],
    count: number,
  ) {
    this.count = count
    // Plain arrays filled in order: a typed array costs a backing store per call, several times the
    // allocation of a JS array of the same length.
    this.keys = []
    this.values = []
    this.timestamps = []
    this.partitions = []
    this.fieldsBytes = []
    this.maxBytes = []
  }

  /**
   * Checks the shape of the call and every record (types, timestamp, partition sign; nothing that needs
   * the topic). Errors name the topic and the record's index in its topic's messages.
   */
  static check(groups: readonly TopicMessages[], now: TimestampMs): CheckedRecords {
    const checkedGroups: CheckedGroup[] = []
    let count = 0
    for (const group of groups) {
      if (typeof group !== 'object' || group === null) throw new InvalidArgumentError(`Expected { topic, messages }, got ${describeValue(group)}`)
      const { topic, messages } = group
      if (typeof topic !== 'string') throw new InvalidArgumentError(`A topic name must be a string, got ${describeValue(topic)}`)
      if (!Array.isArray(messages)) throw new InvalidArgumentError(`Records for ${topic} must be an array, got ${describeValue(messages)}`, { topic })
      checkedGroups.push({ topic, start: count, end: count + messages.length })
      count += messages.length
    }
    const checked = new CheckedRecords(checkedGroups, count)
    for (let g = 0; g < groups.length; g++) {
      const { start, topic } = checkedGroups[g]!
      const messages = groups[g]!.messages
      for (let index = 0; index < messages.length; index++) checked.checkRecord(start + index, messages[index], now, topic, index)
    }
    return checked
  }

  /**
   * Replaces every Buffer and Uint8Array of the call by a private copy: the call is about to wait (for
   * memory or a topic) before its records are written into batches, and `send` returns meanwhile.
   */
  copyBytes(): void {
    if (this.copied) return
    this.copied = true
    for (let i = 0; i < this.count; i++) {
      this.keys[i] = copyOf(this.keys[i]!)
      this.values[i] = copyOf(this.values[i]!)
      const headers = this.headers?.[i]
      if (headers !== undefined) this.headers![i] = headers.map((h) => ({ key: h.key, value: copyOf(h.value) }))
    }
  }

  private checkRecord(at: number, input: unknown, now: TimestampMs, topic: string, index: number): void {
    if (typeof input !== 'object' || input === null || Array.isArray(input) || Buffer.isBuffer(input)) {
      throw invalid(`A record must be an object with a value, got ${describeValue(input)}`, topic, index)
    }
    const r = input as { [field: string]: unknown }
    const value = r.value
    if (value === undefined) throw invalid('A record needs a value (use null for a tombstone)', topic, index)
    // Each field is read once: a getter on the caller's object must not answer twice.
    const rawKey = r.key
    const key = rawKey === undefined || rawKey === null ? null : checkBytes(rawKey, 'key', topic, index)
    const valueBytes = value === null ? null : checkBytes(value, 'value', topic, index)
    const rawHeaders = r.headers
    let headers: BuilderHeader[] | undefined
    if (rawHeaders !== undefined && rawHeaders !== null) {
      headers = toHeaders(rawHeaders, topic, index)
      this.headers ??= new Array<BuilderHeader[] | undefined>(this.count)
      this.headers[at] = headers
    }
    const fieldsBytes = recordFieldsSize(key, valueBytes, headers)
    const rawTimestamp = r.timestamp
    const timestamp = rawTimestamp === undefined ? now : rawTimestamp
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw invalid(`A record timestamp must be a non-negative integer (ms since the epoch), got ${describeValue(timestamp)}`, topic, index)
    }
    const partition = r.partition
    if (partition !== undefined && (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0)) {
      throw invalid(`A record partition must be a non-negative integer, got ${describeValue(partition)}`, topic, index)
    }
    this.keys[at] = key
    this.values[at] = valueBytes
    this.timestamps[at] = timestamp
    this.partitions[at] = partition === undefined ? NO_PARTITION : (partition as number)
    this.fieldsBytes[at] = fieldsBytes
    const maxBytes = maxRecordSizeInBatch(fieldsBytes)
    this.maxBytes[at] = maxBytes
    this.totalMaxBytes += maxBytes
  }
}

/** The record bytes as a Buffer of their own (for a custom partitioner, which may keep or change them). */
export function toBuffer(bytes: BuilderBytes): Buffer | null {
  if (bytes === null) return null
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : copy(bytes)
}

function copyOf(bytes: BuilderBytes): BuilderBytes {
  return bytes === null || typeof bytes === 'string' ? bytes : copy(bytes)
}

function copy(bytes: Uint8Array): Buffer {
  // allocUnsafe + set skips Buffer.from's generic dispatch; every byte is overwritten by the copy.
  const out = Buffer.allocUnsafe(bytes.length)
  out.set(bytes)
  return out
}

function checkBytes(value: unknown, what: string, topic: string, index: number): Uint8Array | string {
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  throw invalid(`A record ${what} must be a Buffer, Uint8Array, string or null, got ${describeValue(value)}`, topic, index)
}

/** The error context (topic, index) is built only when a record is refused. */
function invalid(message: string, topic: string, index: number): InvalidArgumentError {
  const context: ErrorContext = { topic, index }
  return new InvalidArgumentError(message, context)
}

function toHeaders(input: unknown, topic: string, index: number): BuilderHeader[] {
  const out: BuilderHeader[] = []
  const add = (key: unknown, value: unknown): void => {
    if (typeof key !== 'string') throw invalid(`A header key must be a string, got ${describeValue(key)}`, topic, index)
    out.push({ key, value: value === null ? null : checkBytes(value, `header ${JSON.stringify(key)} value`, topic, index) })
  }
  if (Array.isArray(input)) {
    for (const h of input) {
      if (typeof h !== 'object' || h === null) throw invalid(`A header must be { key, value }, got ${describeValue(h)}`, topic, index)
      add((h as { key: unknown }).key, (h as { value: unknown }).value)
    }
    return out
  }
  if (typeof input !== 'object' || input === null || Buffer.isBuffer(input)) {
    throw invalid(`Headers must be an object or an array of { key, value }, got ${describeValue(input)}`, topic, index)
  }
  for (const [key, value] of Object.entries(input)) {
    if (Array.isArray(value)) for (const v of value) add(key, v)
    else add(key, value)
  }
  return out
}

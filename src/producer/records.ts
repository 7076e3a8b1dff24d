/**
 * What a caller hands to `send`, checked and turned into bytes once (Kafka's serialization step in
 * `KafkaProducer.doSend`), and the exact size a record takes inside a batch.
 *
 * Keys, values and header values are copied at `send` time, as Kafka copies them into its batch buffer:
 * a caller may reuse or change its buffers as soon as `send` returns, and the copies are what
 * `bufferMemory` accounts for.
 */
import type { RecordHeader } from '../codec/record-batch'
import { sizeOfVarint, sizeOfVarlong } from '../codec/varint'
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

/** A checked record, its bytes copied. */
export interface PreparedRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeader[]
  readonly timestamp: TimestampMs
  /** The explicit partition, if the caller gave one (range-checked by the producer). */
  readonly partition: number | undefined
  /** An upper bound of the record's bytes in any batch (with the largest possible deltas). */
  readonly maxSizeInBatch: number
}

const NO_HEADERS: RecordHeader[] = []

/** Checks one input record and copies its bytes. `index` names it in errors. */
export function prepareRecord(input: unknown, now: TimestampMs, context: ErrorContext): PreparedRecord {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || Buffer.isBuffer(input)) {
    throw new InvalidArgumentError(`A record must be an object with a value, got ${describeValue(input)}`, context)
  }
  const r = input as Record<string, unknown>
  if (!('value' in r) || r.value === undefined) {
    throw new InvalidArgumentError('A record needs a value (use null for a tombstone)', context)
  }
  const key = r.key === undefined || r.key === null ? null : toBytes(r.key, 'key', context)
  const value = r.value === null ? null : toBytes(r.value, 'value', context)
  const headers = r.headers === undefined || r.headers === null ? NO_HEADERS : toHeaders(r.headers, context)
  const timestamp = r.timestamp === undefined ? now : r.timestamp
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new InvalidArgumentError(`A record timestamp must be a non-negative integer (ms since the epoch), got ${describeValue(timestamp)}`, context)
  }
  const partition = r.partition
  if (partition !== undefined && (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0)) {
    throw new InvalidArgumentError(`A record partition must be a non-negative integer, got ${describeValue(partition)}`, context)
  }
  const prepared = { key, value, headers, timestamp, partition: partition as number | undefined, maxSizeInBatch: 0 }
  prepared.maxSizeInBatch = recordSizeInBatch(prepared, MAX_DELTA_OFFSET, MAX_DELTA_TIMESTAMP)
  return prepared
}

// Deltas whose zigzag varints take the most bytes a batch can need (5 for the int32 offset delta, and
// the longest varlong a safe-integer timestamp delta can take), for the upper bound.
const MAX_DELTA_OFFSET = 0x7fffffff
const MAX_DELTA_TIMESTAMP = -Number.MAX_SAFE_INTEGER

/**
 * The bytes the record takes in a batch at `offsetDelta`, `timestampDelta` from the batch's base
 * timestamp: the length varint plus the body, exactly as DefaultRecord writes it (record-batch.ts).
 */
export function recordSizeInBatch(record: Pick<PreparedRecord, 'key' | 'value' | 'headers'>, offsetDelta: number, timestampDelta: number): number {
  let body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta)
  body += bytesFieldSize(record.key) + bytesFieldSize(record.value) + sizeOfVarint(record.headers.length)
  for (const h of record.headers) {
    const keyBytes = Buffer.byteLength(h.key, 'utf8')
    body += sizeOfVarint(keyBytes) + keyBytes + bytesFieldSize(h.value)
  }
  return sizeOfVarint(body) + body
}

function bytesFieldSize(bytes: Buffer | null): number {
  return bytes === null ? 1 : sizeOfVarint(bytes.length) + bytes.length
}

function toBytes(value: unknown, what: string, context: ErrorContext): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (value instanceof Uint8Array) {
    // allocUnsafe + set skips Buffer.from's generic dispatch (array-like, object, ArrayBuffer checks), a
    // third of the cost of copying a small key or value; every byte is overwritten by the copy.
    const copy = Buffer.allocUnsafe(value.length)
    copy.set(value)
    return copy
  }
  throw new InvalidArgumentError(`A record ${what} must be a Buffer, Uint8Array, string or null, got ${describeValue(value)}`, context)
}

function toHeaders(input: unknown, context: ErrorContext): RecordHeader[] {
  const out: RecordHeader[] = []
  const add = (key: unknown, value: unknown): void => {
    if (typeof key !== 'string') throw new InvalidArgumentError(`A header key must be a string, got ${describeValue(key)}`, context)
    out.push({ key, value: value === null ? null : toBytes(value, `header ${JSON.stringify(key)} value`, context) })
  }
  if (Array.isArray(input)) {
    for (const h of input) {
      if (typeof h !== 'object' || h === null) throw new InvalidArgumentError(`A header must be { key, value }, got ${describeValue(h)}`, context)
      add((h as { key: unknown }).key, (h as { value: unknown }).value)
    }
    return out
  }
  if (typeof input !== 'object' || input === null || Buffer.isBuffer(input)) {
    throw new InvalidArgumentError(`Headers must be an object or an array of { key, value }, got ${describeValue(input)}`, context)
  }
  for (const [key, value] of Object.entries(input)) {
    if (Array.isArray(value)) for (const v of value) add(key, v)
    else add(key, value)
  }
  return out
}

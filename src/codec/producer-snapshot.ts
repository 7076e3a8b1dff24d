/**
 * Kafka's producer state snapshot, `<offset>.snapshot` (kafka-format.md §2.9; Kafka
 * `ProducerStateManager.writeSnapshot/readSnapshot`, schema `ProducerSnapshot.json` version 1, not flexible).
 * All integers are big-endian.
 *
 * Header:
 *
 * | offset | size | field        | type   | notes                                              |
 * |--------|------|--------------|--------|----------------------------------------------------|
 * | 0      | 2    | version      | int16  | always 1                                           |
 * | 2      | 4    | crc          | uint32 | CRC-32C of bytes [6, EOF): the count and entries   |
 * | 6      | 4    | entryCount   | int32  |                                                    |
 * | 10     | 46×n | entries      |        |                                                    |
 *
 * Entry (46 bytes):
 *
 * | offset | size | field                 | type  | "none" value                                  |
 * |--------|------|-----------------------|-------|-----------------------------------------------|
 * | 0      | 8    | producerId            | int64 | (only ids ≥ 0 are written)                    |
 * | 8      | 2    | producerEpoch         | int16 |                                               |
 * | 10     | 4    | lastSequence          | int32 | -1 when the producer has no batch metadata    |
 * | 14     | 8    | lastOffset            | int64 | -1 when the producer has no batch metadata    |
 * | 22     | 4    | offsetDelta           | int32 | 0: lastSeq - firstSeq of the last batch       |
 * | 26     | 8    | timestamp             | int64 | -1: max timestamp of the last batch           |
 * | 34     | 4    | coordinatorEpoch      | int32 | -1                                            |
 * | 38     | 8    | currentTxnFirstOffset | int64 | -1 when there is no ongoing transaction       |
 *
 * The file is checksummed, not rebuilt in place: a snapshot that fails the checks below is deleted by the
 * caller, and producer state is rebuilt from an older snapshot or from the log. Checks: the version is 1, the
 * CRC matches, and the length is exactly `10 + 46 × entryCount`. Kafka's generated reader ignores bytes after
 * the last entry (the CRC still covers them); kafkalite rejects them, because no writer produces them.
 *
 * int64 fields are read as BigInt and handed out as numbers only when they fit in 2^53 - 1; anything larger
 * is reported as corrupt rather than silently rounded.
 */
import { crc32c } from '@node-rs/crc32'
import { CorruptRecordError } from '../errors/index'
import { assert } from '../util/assert'
import type { Offset, TimestampMs } from '../util/types'

export const PRODUCER_SNAPSHOT_VERSION = 1

const VERSION_OFFSET = 0
const VERSION_LENGTH = 2
const CRC_OFFSET = VERSION_OFFSET + VERSION_LENGTH
const CRC_LENGTH = 4
const ENTRY_COUNT_OFFSET = CRC_OFFSET + CRC_LENGTH
const ENTRY_COUNT_LENGTH = 4
/** Kafka's `PRODUCER_ENTRIES_OFFSET`: the CRC covers everything from here (the count included) to EOF. */
const CRC_COVERED_FROM = ENTRY_COUNT_OFFSET
export const PRODUCER_SNAPSHOT_HEADER_SIZE = ENTRY_COUNT_OFFSET + ENTRY_COUNT_LENGTH

const PRODUCER_ID_OFFSET = 0
const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8
const LAST_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2
const LAST_OFFSET_OFFSET = LAST_SEQUENCE_OFFSET + 4
const OFFSET_DELTA_OFFSET = LAST_OFFSET_OFFSET + 8
const TIMESTAMP_OFFSET = OFFSET_DELTA_OFFSET + 4
const COORDINATOR_EPOCH_OFFSET = TIMESTAMP_OFFSET + 8
const CURRENT_TXN_FIRST_OFFSET_OFFSET = COORDINATOR_EPOCH_OFFSET + 4
export const PRODUCER_SNAPSHOT_ENTRY_SIZE = CURRENT_TXN_FIRST_OFFSET_OFFSET + 8

export interface ProducerSnapshotEntry {
  readonly producerId: number
  readonly producerEpoch: number
  readonly lastSequence: number
  readonly lastOffset: Offset
  readonly offsetDelta: number
  readonly timestamp: TimestampMs
  readonly coordinatorEpoch: number
  readonly currentTxnFirstOffset: Offset
}

export function encodeProducerSnapshot(entries: readonly ProducerSnapshotEntry[]): Buffer {
  const buf = Buffer.alloc(PRODUCER_SNAPSHOT_HEADER_SIZE + entries.length * PRODUCER_SNAPSHOT_ENTRY_SIZE)
  buf.writeInt16BE(PRODUCER_SNAPSHOT_VERSION, VERSION_OFFSET)
  buf.writeInt32BE(entries.length, ENTRY_COUNT_OFFSET)
  entries.forEach((e, i) => writeEntry(buf, PRODUCER_SNAPSHOT_HEADER_SIZE + i * PRODUCER_SNAPSHOT_ENTRY_SIZE, e))
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_COVERED_FROM)), CRC_OFFSET)
  return buf
}

export function decodeProducerSnapshot(input: Uint8Array): ProducerSnapshotEntry[] {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (buf.length < PRODUCER_SNAPSHOT_HEADER_SIZE) {
    throw new CorruptRecordError(
      `producer snapshot is ${buf.length} bytes, shorter than its ${PRODUCER_SNAPSHOT_HEADER_SIZE}-byte header`,
      { size: buf.length },
    )
  }
  const version = buf.readInt16BE(VERSION_OFFSET)
  if (version !== PRODUCER_SNAPSHOT_VERSION) {
    throw new CorruptRecordError(`producer snapshot has unknown version ${version}, expected ${PRODUCER_SNAPSHOT_VERSION}`, {
      version,
    })
  }
  const storedCrc = buf.readUInt32BE(CRC_OFFSET)
  const computedCrc = crc32c(buf.subarray(CRC_COVERED_FROM))
  if (storedCrc !== computedCrc) {
    throw new CorruptRecordError(`producer snapshot CRC mismatch: stored ${storedCrc}, computed ${computedCrc}`, {
      storedCrc,
      computedCrc,
    })
  }
  const count = buf.readInt32BE(ENTRY_COUNT_OFFSET)
  const expectedSize = PRODUCER_SNAPSHOT_HEADER_SIZE + count * PRODUCER_SNAPSHOT_ENTRY_SIZE
  if (count < 0 || buf.length !== expectedSize) {
    throw new CorruptRecordError(
      `producer snapshot announces ${count} entries (${expectedSize} bytes) but is ${buf.length} bytes`,
      { entryCount: count, size: buf.length },
    )
  }
  const entries: ProducerSnapshotEntry[] = []
  for (let i = 0; i < count; i++) entries.push(readEntry(buf, PRODUCER_SNAPSHOT_HEADER_SIZE + i * PRODUCER_SNAPSHOT_ENTRY_SIZE, i))
  return entries
}

function writeEntry(buf: Buffer, at: number, e: ProducerSnapshotEntry): void {
  writeInt64(buf, at + PRODUCER_ID_OFFSET, e.producerId, 'producerId')
  assert(Number.isInteger(e.producerEpoch) && e.producerEpoch >= -32768 && e.producerEpoch <= 32767, `producerEpoch ${e.producerEpoch} is not an int16`)
  buf.writeInt16BE(e.producerEpoch, at + PRODUCER_EPOCH_OFFSET)
  writeInt32(buf, at + LAST_SEQUENCE_OFFSET, e.lastSequence, 'lastSequence')
  writeInt64(buf, at + LAST_OFFSET_OFFSET, e.lastOffset, 'lastOffset')
  writeInt32(buf, at + OFFSET_DELTA_OFFSET, e.offsetDelta, 'offsetDelta')
  writeInt64(buf, at + TIMESTAMP_OFFSET, e.timestamp, 'timestamp')
  writeInt32(buf, at + COORDINATOR_EPOCH_OFFSET, e.coordinatorEpoch, 'coordinatorEpoch')
  writeInt64(buf, at + CURRENT_TXN_FIRST_OFFSET_OFFSET, e.currentTxnFirstOffset, 'currentTxnFirstOffset')
}

function readEntry(buf: Buffer, at: number, index: number): ProducerSnapshotEntry {
  const int64 = (offset: number, field: string): number => {
    const value = buf.readBigInt64BE(at + offset)
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptRecordError(`producer snapshot entry ${index}: ${field} ${value} is beyond 2^53 - 1`, { entry: index, field })
    }
    return Number(value)
  }
  return {
    producerId: int64(PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    lastSequence: buf.readInt32BE(at + LAST_SEQUENCE_OFFSET),
    lastOffset: int64(LAST_OFFSET_OFFSET, 'lastOffset'),
    offsetDelta: buf.readInt32BE(at + OFFSET_DELTA_OFFSET),
    timestamp: int64(TIMESTAMP_OFFSET, 'timestamp'),
    coordinatorEpoch: buf.readInt32BE(at + COORDINATOR_EPOCH_OFFSET),
    currentTxnFirstOffset: int64(CURRENT_TXN_FIRST_OFFSET_OFFSET, 'currentTxnFirstOffset'),
  }
}

function writeInt32(buf: Buffer, at: number, value: number, field: string): void {
  assert(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31, `${field} ${value} is not an int32`)
  buf.writeInt32BE(value, at)
}

function writeInt64(buf: Buffer, at: number, value: number, field: string): void {
  assert(Number.isSafeInteger(value), `${field} ${value} is not a safe integer`)
  buf.writeBigInt64BE(BigInt(value), at)
}

/**
 * Kafka's sparse segment indexes, byte for byte (OffsetIndex.java, TimeIndex.java).
 *
 * `.index` — a series of 8-byte entries, big-endian, no header:
 *   | offset | size | field          | meaning                                                     |
 *   |--------|------|----------------|-------------------------------------------------------------|
 *   | 0      | 4    | relativeOffset | lastOffset of the indexed batch − segment baseOffset (int32) |
 *   | 4      | 4    | position       | byte position in `.log` where that batch starts (int32)      |
 *
 * `.timeindex` — a series of 12-byte entries, big-endian, no header:
 *   | offset | size | field          | meaning                                                     |
 *   |--------|------|----------------|-------------------------------------------------------------|
 *   | 0      | 8    | timestamp      | largest record timestamp in the segment up to this batch    |
 *   | 8      | 4    | relativeOffset | lastOffset of the batch holding that timestamp − baseOffset  |
 *
 * Neither file is checksummed: both are derived from `.log` and rebuilt on recovery. Kafka treats every
 * whole slot of an existing file as an entry (there is no terminator), so a file must never carry a
 * zero-filled tail; kafkalite never preallocates, which makes that true by construction.
 * Offsets are strictly increasing in both files; time-index timestamps are strictly increasing.
 */
export const OFFSET_INDEX_ENTRY_SIZE = 8
export const OFFSET_INDEX_RELATIVE_OFFSET = 0
export const OFFSET_INDEX_POSITION = OFFSET_INDEX_RELATIVE_OFFSET + 4

export const TIME_INDEX_ENTRY_SIZE = 12
export const TIME_INDEX_TIMESTAMP = 0
export const TIME_INDEX_RELATIVE_OFFSET = TIME_INDEX_TIMESTAMP + 8

export function writeOffsetIndexEntry(buf: Buffer, at: number, relativeOffset: number, position: number): void {
  buf.writeInt32BE(relativeOffset, at + OFFSET_INDEX_RELATIVE_OFFSET)
  buf.writeInt32BE(position, at + OFFSET_INDEX_POSITION)
}

export function readOffsetIndexRelativeOffset(buf: Buffer, entry: number): number {
  return buf.readInt32BE(entry * OFFSET_INDEX_ENTRY_SIZE + OFFSET_INDEX_RELATIVE_OFFSET)
}

export function readOffsetIndexPosition(buf: Buffer, entry: number): number {
  return buf.readInt32BE(entry * OFFSET_INDEX_ENTRY_SIZE + OFFSET_INDEX_POSITION)
}

export function writeTimeIndexEntry(buf: Buffer, at: number, timestamp: number, relativeOffset: number): void {
  buf.writeBigInt64BE(BigInt(timestamp), at + TIME_INDEX_TIMESTAMP)
  buf.writeInt32BE(relativeOffset, at + TIME_INDEX_RELATIVE_OFFSET)
}

export function readTimeIndexTimestamp(buf: Buffer, entry: number): number {
  return Number(buf.readBigInt64BE(entry * TIME_INDEX_ENTRY_SIZE + TIME_INDEX_TIMESTAMP))
}

export function readTimeIndexRelativeOffset(buf: Buffer, entry: number): number {
  return buf.readInt32BE(entry * TIME_INDEX_ENTRY_SIZE + TIME_INDEX_RELATIVE_OFFSET)
}

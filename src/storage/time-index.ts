/**
 * The time index of one segment (`.timeindex`, layout in codec/index-entries). An entry (T, O) says:
 * T is the largest timestamp in the segment up to and including the batch whose last offset is O.
 * Entries are appended only when T grows (strictly), so timestamps and offsets both increase, and a
 * final entry for the segment's max timestamp is written when the segment is rolled or closed
 * (Kafka's `onBecomeInactiveSegment`), so the last entry of a closed segment is its max timestamp.
 */
import { TIME_INDEX_ENTRY_SIZE, readTimeIndexRelativeOffset, readTimeIndexTimestamp, writeTimeIndexEntry } from '../codec/index-entries'
import type { FileSystem } from '../io/file-system'
import type { Offset } from '../util/types'
import { IndexCorruptError, SparseIndexFile } from './sparse-index'

export interface TimestampOffset {
  timestamp: number
  offset: Offset
}

export class TimeIndex {
  readonly file: SparseIndexFile
  private readonly scratch = Buffer.alloc(TIME_INDEX_ENTRY_SIZE)
  private last: TimestampOffset | undefined | null = null // null = not read yet

  constructor(fs: FileSystem, path: string, readonly baseOffset: Offset, maxIndexBytes: number) {
    this.file = new SparseIndexFile(fs, path, TIME_INDEX_ENTRY_SIZE, Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_SIZE))
  }

  get entries(): number {
    return this.file.entries
  }

  /**
   * The last entry, read from the file's head and tail only (no full load): used to learn a closed
   * segment's max timestamp. Kafka's sanity check applies: the last timestamp may not be older than the
   * first, nor the last offset below the base (a zero-filled tail would read as such an entry).
   */
  lastEntry(): TimestampOffset | undefined {
    if (this.last === null) {
      const n = this.entries
      if (n === 0) this.last = undefined
      else {
        const e = this.file.readEntryFromFile(n - 1)
        const last = { timestamp: readTimeIndexTimestamp(e, 0), offset: this.baseOffset + readTimeIndexRelativeOffset(e, 0) }
        const firstTimestamp = readTimeIndexTimestamp(this.file.readEntryFromFile(0), 0)
        if (last.timestamp < firstTimestamp || last.offset < this.baseOffset) {
          throw new IndexCorruptError(`Time index ${this.file.path} ends with (${last.timestamp}, ${last.offset}), before its first entry`)
        }
        this.last = last
      }
    }
    return this.last
  }

  /** Undoes the index part of a failed append (see SparseIndexFile.forgetEntriesAfter). */
  forgetEntriesAfter(entries: number): void {
    this.file.forgetEntriesAfter(entries)
    this.last = null
  }

  /** Appends (timestamp, offset) if the timestamp is strictly greater than the last entry's. */
  maybeAppend(timestamp: number, offset: Offset): void {
    const last = this.lastEntry()
    if (last !== undefined && (timestamp <= last.timestamp || offset <= last.offset)) return
    writeTimeIndexEntry(this.scratch, 0, timestamp, offset - this.baseOffset)
    this.file.append(this.scratch)
    this.last = { timestamp, offset }
  }

  /** Largest entry with timestamp ≤ target (the scan for the first record ≥ target starts there), or undefined. */
  lookup(target: number): TimestampOffset | undefined {
    const buf = this.file.view()
    let lo = 0
    let hi = this.entries - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (readTimeIndexTimestamp(buf, mid) <= target) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (found < 0) return undefined
    return { timestamp: readTimeIndexTimestamp(buf, found), offset: this.baseOffset + readTimeIndexRelativeOffset(buf, found) }
  }

  /** Removes entries for offsets ≥ `offset`. */
  truncateTo(offset: Offset): void {
    const buf = this.file.view()
    let keep = this.entries
    while (keep > 0 && this.baseOffset + readTimeIndexRelativeOffset(buf, keep - 1) >= offset) keep--
    this.file.truncateEntries(keep)
    this.last = null
  }

  sanityCheck(): void {
    const buf = this.file.view()
    let prevTs = Number.NEGATIVE_INFINITY
    let prevOffset = -1
    for (let i = 0; i < this.entries; i++) {
      const ts = readTimeIndexTimestamp(buf, i)
      const rel = readTimeIndexRelativeOffset(buf, i)
      if (ts <= prevTs || rel < prevOffset || rel < 0) {
        throw new IndexCorruptError(`Time index ${this.file.path} entry ${i} (${ts}, ${rel}) is out of order`)
      }
      prevTs = ts
      prevOffset = rel
    }
  }

  reset(): void {
    this.file.reset()
    this.last = undefined
  }
}

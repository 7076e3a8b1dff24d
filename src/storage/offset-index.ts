/**
 * The offset index of one segment (`.index`, layout in codec/index-entries). Each entry maps the last
 * offset of a batch to the byte position where that batch starts, exactly as Kafka's
 * `LogSegment.append` and `recover` write it, so Kafka's DumpLogSegments finds no mismatch.
 *
 * A lookup returns the largest entry whose offset is ≤ the target (or the segment start), and the
 * caller scans forward from there; entries are sparse (one per `indexIntervalBytes` of log).
 */
import { OFFSET_INDEX_ENTRY_SIZE, readOffsetIndexPosition, readOffsetIndexRelativeOffset, writeOffsetIndexEntry } from '../codec/index-entries'
import type { FileSystem } from '../io/file-system'
import { assert } from '../util/assert'
import type { Offset, Position } from '../util/types'
import { IndexCorruptError, SparseIndexFile } from './sparse-index'

export interface OffsetPosition {
  offset: Offset
  position: Position
}

export class OffsetIndex {
  readonly file: SparseIndexFile
  private readonly scratch = Buffer.alloc(OFFSET_INDEX_ENTRY_SIZE)

  constructor(fs: FileSystem, path: string, readonly baseOffset: Offset, maxIndexBytes: number) {
    this.file = new SparseIndexFile(fs, path, OFFSET_INDEX_ENTRY_SIZE, Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE))
  }

  get entries(): number {
    return this.file.entries
  }

  lastOffset(): Offset | undefined {
    const n = this.entries
    if (n === 0) return undefined
    return this.baseOffset + this.file.readEntryFromFile(n - 1).readInt32BE(0)
  }

  append(offset: Offset, position: Position): void {
    const last = this.lastOffsetLoaded()
    assert(last === undefined || offset > last, `offset index ${this.file.path}: ${offset} after ${last}`)
    writeOffsetIndexEntry(this.scratch, 0, offset - this.baseOffset, position)
    this.file.append(this.scratch)
  }

  /** Largest entry with offset ≤ target, or the segment start. */
  lookup(target: Offset): OffsetPosition {
    const buf = this.file.view()
    let lo = 0
    let hi = this.entries - 1
    let found = -1
    const rel = target - this.baseOffset
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (readOffsetIndexRelativeOffset(buf, mid) <= rel) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 }
    return { offset: this.baseOffset + readOffsetIndexRelativeOffset(buf, found), position: readOffsetIndexPosition(buf, found) }
  }

  /** Removes entries for offsets ≥ `offset` (the batches at and after it are being cut). */
  truncateTo(offset: Offset): void {
    const buf = this.file.view()
    let keep = this.entries
    while (keep > 0 && this.baseOffset + readOffsetIndexRelativeOffset(buf, keep - 1) >= offset) keep--
    this.file.truncateEntries(keep)
  }

  /**
   * Kafka's `OffsetIndex.sanityCheck` plus the ordering and bounds checks we can make cheaply once the
   * file is loaded: strictly increasing offsets, positions within the log, non-decreasing positions.
   */
  sanityCheck(logSize: number): void {
    const buf = this.file.view()
    let prevOffset = -1
    let prevPosition = -1
    for (let i = 0; i < this.entries; i++) {
      const rel = readOffsetIndexRelativeOffset(buf, i)
      const pos = readOffsetIndexPosition(buf, i)
      if (rel <= prevOffset || pos < prevPosition || pos < 0 || pos >= logSize) {
        throw new IndexCorruptError(`Offset index ${this.file.path} entry ${i} (${rel}, ${pos}) is out of order or past the log`)
      }
      prevOffset = rel
      prevPosition = pos
    }
  }

  private lastOffsetLoaded(): Offset | undefined {
    const n = this.entries
    return n === 0 ? undefined : this.baseOffset + readOffsetIndexRelativeOffset(this.file.view(), n - 1)
  }
}

/**
 * Reads a segment as chunks of whole batches, for the cleaner's passes. A chunk is about `chunkBytes`
 * long (one positional read), but always holds at least one whole batch, however large, and never part
 * of one: the caller walks the batches in memory (yielding to the event loop between them as it needs)
 * and then asks for the next chunk.
 *
 * Every chunk of a round is read into the same buffer (grown only for a batch larger than it), so a
 * round of any size allocates a constant amount: a chunk, and anything taken from it, is valid only
 * until the next `next()`. The reader opens its own read-only handle on the segment's `.log`, which
 * keeps reading the same file even if the segment is renamed meanwhile, and reads no further than the
 * segment's size when the reader was made (the segment is closed, so that is its end).
 */
import { RECORD_BATCH_OVERHEAD, batchSizeAt } from '../codec/record-batch'
import { CorruptRecordError } from '../errors/index'
import type { FileHandle, FileSystem } from '../io/file-system'
import type { LogSegment } from '../storage/segment'
import type { Position } from '../util/types'

export interface BatchChunk {
  /** Whole batches, back to back; `buf[0]` is the batch at `position` in the file. */
  buf: Buffer
  position: Position
  /** File position after the last batch in `buf`: where the next chunk starts. */
  next: Position
}

/** The reusable read buffer of one round. */
export class ChunkBuffer {
  buf: Buffer
  constructor(readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes)
  }
}

export class SegmentReader {
  private readonly handle: FileHandle
  private readonly end: Position

  constructor(
    fs: FileSystem,
    private readonly segment: LogSegment,
    private readonly chunks: ChunkBuffer,
    private position: Position = 0,
  ) {
    this.handle = fs.open(segment.logPath, 'r')
    this.end = segment.size
  }

  /** The next chunk of whole batches, or undefined at the end of the segment. */
  next(): BatchChunk | undefined {
    const position = this.position
    if (position >= this.end) return undefined
    let length = this.fill(Math.min(this.chunks.chunkBytes, this.end - position))
    let buf = this.chunks.buf
    const first = batchSizeAt(buf.subarray(0, length), 0)
    if (first < RECORD_BATCH_OVERHEAD) throw this.corrupt(position, `a batch size of ${first}`)
    if (first > length) {
      if (first > this.chunks.buf.length) this.chunks.buf = Buffer.allocUnsafe(first)
      length = this.fill(Math.min(first, this.end - position))
      buf = this.chunks.buf
      if (length < first) throw this.corrupt(position, `a batch of ${first} bytes cut short at ${length}`)
    }
    let end = 0
    for (;;) {
      if (end + RECORD_BATCH_OVERHEAD > length) break
      const size = batchSizeAt(buf, end)
      if (size < RECORD_BATCH_OVERHEAD || end + size > length) break
      end += size
    }
    this.position = position + end
    return { buf: buf.subarray(0, end), position, next: this.position }
  }

  close(): void {
    this.handle.close()
  }

  private fill(length: number): number {
    let filled = 0
    while (filled < length) {
      const n = this.handle.read(this.chunks.buf, filled, length - filled, this.position + filled)
      if (n === 0) break
      filled += n
    }
    return filled
  }

  private corrupt(position: Position, what: string): CorruptRecordError {
    return new CorruptRecordError(`Segment ${this.segment.logPath} has ${what} at position ${position}`, { path: this.segment.logPath, position })
  }
}

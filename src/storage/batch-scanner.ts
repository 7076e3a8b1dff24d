/**
 * Walks the batches of a `.log` file from a byte position, reading large chunks rather than one
 * header at a time: between two index entries there can be dozens of small batches, and a syscall per
 * header would dominate a fetch.
 *
 * The visitor sees each batch as (chunk, offsetInChunk, filePosition, size). In `header` mode only the
 * 61-byte header is guaranteed to be in the chunk; in `whole` mode the entire batch is (a batch larger
 * than the chunk gets a chunk of its own). The walk stops at a partial tail, at a size field that
 * cannot be a batch (< 61 bytes, which Kafka treats as corruption), or when the visitor returns false.
 */
import { RECORD_BATCH_OVERHEAD, batchSizeAt } from '../codec/record-batch'
import type { FileHandle } from '../io/file-system'
import type { Position } from '../util/types'

export const SCAN_CHUNK_BYTES = 64 * 1024

export type BatchVisitor = (chunk: Buffer, at: number, position: Position, size: number) => boolean | void

export interface ScanEnd {
  /** Position after the last batch visited (or where the walk stopped). */
  position: Position
  /** Why the walk stopped. */
  reason: 'end' | 'partial' | 'invalid-size' | 'stopped'
}

export function scanBatches(
  handle: FileHandle,
  start: Position,
  end: Position,
  mode: 'header' | 'whole',
  visit: BatchVisitor,
  chunkBytes = SCAN_CHUNK_BYTES,
): ScanEnd {
  let chunk = Buffer.allocUnsafe(chunkBytes)
  let chunkStart = start
  let chunkLen = 0
  let position = start
  for (;;) {
    if (position >= end) return { position, reason: 'end' }
    let at = position - chunkStart
    if (at + RECORD_BATCH_OVERHEAD > chunkLen) {
      chunkStart = position
      chunkLen = handle.read(chunk, 0, Math.min(chunk.length, end - position), position)
      at = 0
      if (chunkLen < RECORD_BATCH_OVERHEAD) return { position, reason: 'partial' }
    }
    const size = batchSizeAt(chunk, at)
    if (size < RECORD_BATCH_OVERHEAD) return { position, reason: 'invalid-size' }
    if (position + size > end) return { position, reason: 'partial' }
    if (mode === 'whole' && at + size > chunkLen) {
      if (size > chunk.length) chunk = Buffer.allocUnsafe(size)
      chunkStart = position
      chunkLen = handle.read(chunk, 0, Math.min(chunk.length, end - position), position)
      at = 0
      if (chunkLen < size) return { position, reason: 'partial' }
    }
    if (visit(chunk, at, position, size) === false) return { position, reason: 'stopped' }
    position += size
  }
}

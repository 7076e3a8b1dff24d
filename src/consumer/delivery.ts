/**
 * Handing polled records to the application one at a time (the async iterator and the run loop), and
 * keeping the consumer position honest while doing so.
 *
 * A poll takes records from the logs in chunks, one per partition, and moves each partition's fetch
 * position past its chunk. The consumer position (what `position()` reports and the group layer commits)
 * moves only as records are delivered. Before each record the chunk is checked:
 * - stale (the partition was revoked, or its fetch position jumped: seek, reset, roll-back): the rest of
 *   the chunk is dropped; whoever moved the position decided what comes next;
 * - paused, or the consumer is stopping: the rest of the chunk is dropped and fetching rolls back to the
 *   position, so those records come again after resume (or on the next run).
 */
import type { Offset } from '../util/types'
import type { PartitionState } from './partition-state'
import type { ConsumerRecord, PollOptions } from './types'

/** The records one poll took from one partition. */
export interface FetchedChunk {
  readonly state: PartitionState
  /** `state.epoch` when the chunk was taken; a different epoch later means the chunk is stale. */
  readonly epoch: number
  readonly records: ConsumerRecord[]
  readonly highWatermark: Offset
  /** The fetch position after the chunk: the position once all of it has been delivered. */
  readonly nextOffset: Offset
}

/** What the iterator and the run loop need from the consumer (an internal view, not public API). */
export interface ChunkSource {
  /** A poll whose records are not yet delivered; positions move through `delivered`. */
  fetchChunks(options: PollOptions): Promise<FetchedChunk[]>
  /** Whether the consumer may go on handing out records (not closing; the run loop: not stopping). */
  readonly active: boolean
  heartbeat(): Promise<void>
  /** Ends this source's poll if one is waiting (it resolves with no records); otherwise does nothing. */
  wakeup(): void
  /**
   * No poll follows soon: drops what polls keep for the next one (the deadline timer of a source made to
   * poll again and again; see wake-signal.ts). The run loop calls it when it ends.
   */
  idle(): void
  readonly maxPollRecords: number
  readonly pollTimeoutMs: number
}

/** Whether the chunk's partition is still assigned and its fetch position has not jumped since. */
export function isCurrent(chunk: FetchedChunk): boolean {
  return chunk.state.assigned && chunk.state.epoch === chunk.epoch
}

/**
 * Whether the next record of `chunk` may be delivered now. A paused partition gives back the rest of the
 * chunk (fetching rolls back to the position), so the records come again after resume.
 */
export function mayDeliver(chunk: FetchedChunk): boolean {
  if (!isCurrent(chunk)) return false
  if (chunk.state.paused) {
    chunk.state.rollBackFetch()
    return false
  }
  return true
}

/** Records up to and including `index` have been delivered (or processed, for the run loop). */
export function markDelivered(chunk: FetchedChunk, index: number): void {
  if (!isCurrent(chunk)) return
  const records = chunk.records
  chunk.state.delivered(index >= records.length - 1 ? chunk.nextOffset : records[index]!.offset + 1)
}

/** The records of `chunk` not delivered so far will be fetched again. */
export function giveBack(chunk: FetchedChunk): void {
  if (isCurrent(chunk)) chunk.state.rollBackFetch()
}

/** Delivers every record of every current chunk at once (`poll()`); stale chunks are left out. */
export function deliverAll(chunks: readonly FetchedChunk[]): ConsumerRecord[] {
  const current = chunks.filter(isCurrent)
  for (const chunk of current) markDelivered(chunk, chunk.records.length - 1)
  if (current.length === 1) return current[0]!.records
  const out: ConsumerRecord[] = []
  for (const chunk of current) for (const r of chunk.records) out.push(r)
  return out
}

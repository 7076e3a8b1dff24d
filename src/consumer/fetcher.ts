/**
 * Taking records out of a partition log for one poll: Kafka's Fetcher and CompletedFetch, without the
 * network. A read returns whole batches (PartitionLog.read); the batches are decoded one at a time, only
 * when a record of that batch is wanted, and what a poll does not take stays in the partition's buffer
 * for the next poll.
 *
 * Byte limits follow Kafka's fetch rules, with one read of the log standing for one fetch of a partition:
 * - a poll reads at most `maxPartitionFetchBytes` from a partition and `fetchMaxBytes` in total;
 * - the first read of a poll that has returned nothing yet may exceed both by one batch (KIP-74: a batch
 *   larger than the limits still makes progress);
 * - any other read that comes back larger than what is left of the limits is kept for the next poll
 *   rather than returned now (the log cannot be asked for "at most n bytes, possibly nothing").
 *
 * Per-record cost: one ConsumerRecord (lazy-record.ts), made by record-decoder.ts after it has checked
 * the record's fields; key, value and headers are made only when the application reads them, as views
 * into the read's buffer. No closures, no copies of keys or values, no per-record map lookups.
 *
 * Each read of the log is a new Buffer: the records keep views into it for as long as the application
 * holds them, so the fetcher cannot read into a buffer it reuses (Partition.read's `buffer` option is for
 * callers that walk batches and drop them). That costs the page faults of fresh memory on every read,
 * measured at about 15-20 ns per 100-byte record on this path.
 */
import { ATTRIBUTES_OFFSET, CONTROL_FLAG_MASK, RECORDS_COUNT_OFFSET, batchSizeAt, readLastOffset } from '../codec/record-batch'
import type { PartitionLog } from '../storage/partition-log'
import { assert } from '../util/assert'
import type { Offset } from '../util/types'
import type { PartitionState } from './partition-state'
import { decodeBatch } from './record-decoder'
import type { ConsumerRecord } from './types'

/** The byte budget of one poll, shared by the partitions it visits. */
export interface FetchBudget {
  /** Bytes still allowed across partitions (`fetchMaxBytes` minus what this poll read). */
  bytesLeft: number
  /** True until the poll has taken a record: its next read may exceed the limits by one batch. */
  mustProgress: boolean
}

/**
 * Takes up to `limit` records of `state` at or after its fetch position into `out`, reading from `log`
 * when the buffer runs dry. Returns the number taken; `state.fetchPosition` ends just past the last one
 * (or past skipped batches).
 *
 * Assumes: `state.fetchPosition` is in range (ensureFetchable ran) and nothing awaits in between.
 */
export function takeRecords(
  state: PartitionState,
  log: PartitionLog,
  out: ConsumerRecord[],
  limit: number,
  budget: FetchBudget,
  maxPartitionFetchBytes: number,
): number {
  const maxDecompressedBytes = log.logConfig.maxDecompressedBatchBytes
  let taken = 0
  let partitionBytesLeft = Math.min(maxPartitionFetchBytes, budget.bytesLeft)
  for (;;) {
    taken += takeBuffered(state, out, limit - taken, maxDecompressedBytes)
    if (taken > 0) budget.mustProgress = false
    if (taken >= limit) return taken
    // The buffer is empty: read more, if the limits allow.
    const force = budget.mustProgress
    if (partitionBytesLeft <= 0 && !force) return taken
    const maxBytes = Math.max(0, partitionBytesLeft)
    const { records } = log.read(state.fetchPosition!, maxBytes)
    if (records.length === 0) return taken
    state.buffer = records
    state.bufferPos = 0
    if (records.length > maxBytes && !force) return taken // kept for the next poll
    partitionBytesLeft -= records.length
    budget.bytesLeft -= records.length
  }
}

/**
 * Moves up to `limit` buffered records into `out`, decoding batches as it reaches them. A batch whose
 * records all fit in what is left of `limit` is decoded straight into `out`; only a batch the poll takes
 * part of is kept (`state.batch`) for the next poll.
 */
function takeBuffered(state: PartitionState, out: ConsumerRecord[], limit: number, maxDecompressedBytes: number): number {
  let taken = 0
  while (taken < limit) {
    const batch = state.batch
    if (batch !== undefined) {
      // Records below the fetch position were left out when the batch was decoded.
      const took = Math.min(limit - taken, batch.length - state.batchIndex)
      let i = state.batchIndex
      for (const stop = i + took; i < stop; i++) out.push(batch[i]!)
      state.batchIndex = i
      taken += took
      if (took > 0) state.fetchPosition = out[out.length - 1]!.offset + 1
      if (i < batch.length) return taken
      state.batch = undefined
      passBatchEnd(state)
      continue
    }
    const pos = nextBatchPosition(state)
    if (pos < 0) return taken
    const buffer = state.buffer!
    // The buffer moves past the batch only once it decoded: a corrupt batch fails every poll that
    // reaches it, rather than once, after which the records behind it would be returned.
    if (buffer.readInt32BE(pos + RECORDS_COUNT_OFFSET) <= limit - taken) {
      const before = out.length
      decodeBatch(buffer, pos, state.fetchPosition!, maxDecompressedBytes, state, out)
      state.bufferPos = pos + batchSizeAt(buffer, pos)
      taken += out.length - before
      if (out.length > before) state.fetchPosition = out[out.length - 1]!.offset + 1
      passBatchEnd(state)
    } else {
      state.batch = decodeBatch(buffer, pos, state.fetchPosition!, maxDecompressedBytes, state)
      state.bufferPos = pos + batchSizeAt(buffer, pos)
      state.batchIndex = 0
    }
  }
  return taken
}

/** Compaction can leave offsets after the last record of a batch; they hold nothing to return. */
function passBatchEnd(state: PartitionState): void {
  if (state.batchNextOffset > state.fetchPosition!) state.fetchPosition = state.batchNextOffset
}

/**
 * The position in `state.buffer` of the next batch to decode (where `state.bufferPos` is left), skipping
 * control batches and batches wholly below the fetch position without decoding them;
 * `state.batchNextOffset` is set to its lastOffset + 1. Returns -1 (and drops the buffer) when the
 * buffer is exhausted.
 */
function nextBatchPosition(state: PartitionState): number {
  const buffer = state.buffer
  if (buffer === undefined) return -1
  while (state.bufferPos < buffer.length) {
    const pos = state.bufferPos
    const size = batchSizeAt(buffer, pos)
    if (size <= 0 || pos + size > buffer.length) assert(false, `PartitionLog.read returned a partial batch at position ${pos} for ${state.what}`)
    const nextOffset: Offset = readLastOffset(buffer, pos) + 1
    if (nextOffset <= state.fetchPosition!) {
      state.bufferPos = pos + size
      continue
    }
    // A control batch (transaction markers) is never returned to applications.
    if ((buffer.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0) {
      state.bufferPos = pos + size
      state.fetchPosition = nextOffset
      continue
    }
    state.batchNextOffset = nextOffset
    return pos
  }
  state.buffer = undefined
  state.bufferPos = 0
  return -1
}

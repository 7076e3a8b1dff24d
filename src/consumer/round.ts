/**
 * One round of a poll: visit the assigned, unpaused partitions from the assignment's cursor, make each
 * fetch position readable (offset-reset.ts), and take records (fetcher.ts) until `maxRecords`, under one
 * byte budget. Synchronous from start to end, so no append, seek or assignment change can interleave.
 *
 * A failure on one partition (ERR_OFFSET_OUT_OF_RANGE under "none", a topic deleted under the consumer,
 * a corrupt batch) fails the round only if nothing was taken yet; otherwise the round returns what it has,
 * and the failure recurs when the next poll reaches that partition. Nothing is lost either way: records
 * taken but not delivered are fetched again (see PartitionState).
 */
import type { ConsumerConfig } from '../config/consumer-config'
import type { PartitionLog } from '../storage/partition-log'
import type { Assignment } from './assignment'
import type { FetchedChunk } from './delivery'
import { takeRecords, type FetchBudget } from './fetcher'
import { ensureFetchable } from './offset-reset'
import type { PartitionState } from './partition-state'
import type { ConsumerRecord, OffsetResetEvent } from './types'

export type RoundConfig = Pick<ConsumerConfig, 'fetchMaxBytes' | 'maxPartitionFetchBytes' | 'autoOffsetReset'>

export interface RoundResult {
  /** Chunks taken, in visiting order (the caller hands the array out, and gives the next round a new one). */
  chunks: FetchedChunk[]
  /** Out-of-range positions this round reset, also when it then failed; the caller reports them. */
  resets: OffsetResetEvent[]
}

/** Fills `result` (which the caller owns, so that resets made before a failure are not lost). */
export function takeRound(
  assignment: Assignment,
  logOf: (state: PartitionState) => PartitionLog,
  config: RoundConfig,
  maxRecords: number,
  result: RoundResult,
): void {
  const budget: FetchBudget = { bytesLeft: config.fetchMaxBytes, mustProgress: true }
  let left = maxRecords
  let last: PartitionState | undefined
  // Nothing in a round changes the assignment (resets are reported by the caller after it).
  const n = assignment.size
  for (let i = 0; i < n; i++) {
    const state = assignment.inRotation(i)
    if (left <= 0) break
    if (state.paused) continue
    let chunk: FetchedChunk | undefined
    try {
      chunk = takeFrom(state, logOf(state), config, left, budget, result.resets)
    } catch (e) {
      if (result.chunks.length > 0) break
      throw e
    }
    if (chunk === undefined) continue
    result.chunks.push(chunk)
    left -= chunk.records.length
    last = state
  }
  if (last !== undefined) assignment.visitNextAfter(last)
}

function takeFrom(
  state: PartitionState,
  log: PartitionLog,
  config: RoundConfig,
  limit: number,
  budget: FetchBudget,
  resets: OffsetResetEvent[],
): FetchedChunk | undefined {
  // Records handed out by an earlier poll but never delivered (a paused or abandoned iteration) come again.
  if (state.fetchPosition !== state.position) state.rollBackFetch()
  const reset = ensureFetchable(state, log, config.autoOffsetReset)
  if (reset !== undefined) resets.push(reset)
  // Nothing buffered and nothing visible past the fetch position (the usual round of a consumer at the
  // tail, which then waits): done, without allocating for a read that would return nothing.
  if (state.batch === undefined && state.buffer === undefined && state.fetchPosition! >= log.highWatermark) return undefined
  const epoch = state.epoch
  const records: ConsumerRecord[] = []
  if (takeRecords(state, log, records, limit, budget, config.maxPartitionFetchBytes) === 0) return undefined
  return { state, epoch, records, highWatermark: log.highWatermark, nextOffset: state.fetchPosition! }
}

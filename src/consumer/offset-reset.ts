/**
 * Choosing where a partition is read from, and what happens when that place no longer exists.
 *
 * Kafka's rules (`SubscriptionState` + `Fetcher` on OFFSET_OUT_OF_RANGE), with kafkalite's addition that
 * nothing is ever skipped silently:
 * - A partition without a position (no committed offset, no seek) starts at the log start offset
 *   (`earliest`), the high watermark (`latest`), or fails (`none`). This is the normal start and emits no
 *   event.
 * - A position below the log start offset (retention or deleteRecords removed the records) or above the
 *   log end offset (a seek past the end, a truncated log) is out of range. With `none` the poll fails with
 *   ERR_OFFSET_OUT_OF_RANGE naming the partition, the position (and whether it was a committed offset),
 *   the log start and end offsets, and the consumer's state is left as it was, so every later poll fails
 *   the same way until the application seeks. With `earliest`/`latest` the position is reset and an
 *   OffsetResetEvent reports how many offsets were skipped.
 *
 * "latest" is the high watermark, not the log end: a consumer cannot see records past it, and starting
 * there loses nothing that a consumer could have read.
 */
import { OffsetOutOfRangeError } from '../errors/index'
import type { AutoOffsetReset } from '../config/consumer-config'
import type { PartitionLog } from '../storage/partition-log'
import type { PartitionState } from './partition-state'
import type { OffsetResetEvent } from './types'

/**
 * Makes sure `state.fetchPosition` is a readable offset of `log`, following `policy`. Returns the event
 * to emit when an out-of-range position was reset, else undefined. Throws ERR_OFFSET_OUT_OF_RANGE (state
 * unchanged) under `none`.
 *
 * Assumes: synchronous with the read that follows, so the log's range cannot move in between.
 */
export function ensureFetchable(state: PartitionState, log: PartitionLog, policy: AutoOffsetReset): OffsetResetEvent | undefined {
  const from = state.fetchPosition
  if (from === undefined) {
    state.setPosition(startingOffset(state, log, policy), 'reset')
    return undefined
  }
  const logStartOffset = log.logStartOffset
  const logEndOffset = log.logEndOffset
  if (from >= logStartOffset && from <= logEndOffset) return undefined
  const reason = from < logStartOffset ? 'belowLogStart' : 'aboveLogEnd'
  if (policy === 'none') throw outOfRange(state, from, reason, logStartOffset, logEndOffset)
  const to = policy === 'earliest' ? logStartOffset : log.highWatermark
  const fromCommitted = state.positionSource === 'committed'
  state.setPosition(to, 'reset')
  return {
    topic: state.topic,
    partition: state.partition,
    from,
    to,
    recordsSkipped: Math.max(0, to - from),
    fromCommitted,
    policy,
    reason,
    logStartOffset,
    logEndOffset,
  }
}

/** The offset a partition without a position starts from; ERR_OFFSET_OUT_OF_RANGE under `none`. */
export function startingOffset(state: PartitionState, log: PartitionLog, policy: AutoOffsetReset): number {
  if (policy === 'earliest') return log.logStartOffset
  if (policy === 'latest') return log.highWatermark
  throw new OffsetOutOfRangeError(
    `${state.what} has no committed offset or position and autoOffsetReset is "none"; seek to an offset or use ` +
      `autoOffsetReset "earliest" or "latest" (the log holds offsets ${log.logStartOffset} to ${log.logEndOffset})`,
    {
      topic: state.topic,
      partition: state.partition,
      position: null,
      reason: 'noOffset',
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
    },
  )
}

function outOfRange(
  state: PartitionState,
  from: number,
  reason: OffsetResetEvent['reason'],
  logStartOffset: number,
  logEndOffset: number,
): OffsetOutOfRangeError {
  const committed = state.positionSource === 'committed'
  const subject = committed ? `Committed offset ${from}` : `Position ${from}`
  const why =
    reason === 'belowLogStart'
      ? `is below the log start offset ${logStartOffset} (retention or deleteRecords removed offsets ${from} to ${logStartOffset - 1})`
      : `is past the log end offset ${logEndOffset}`
  return new OffsetOutOfRangeError(
    `${subject} of ${state.what} ${why}, and autoOffsetReset is "none": seek to an offset in [${logStartOffset}, ${logEndOffset}] ` +
      'or use autoOffsetReset "earliest" or "latest"',
    {
      topic: state.topic,
      partition: state.partition,
      offset: from,
      position: from,
      ...(committed ? { committedOffset: from } : {}),
      reason,
      logStartOffset,
      logEndOffset,
    },
  )
}

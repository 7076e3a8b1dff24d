/**
 * What a consumer knows about one assigned partition: two positions, the pause flag, and the bytes of
 * the last read that have not been handed out yet.
 *
 * Two positions, because fetching runs ahead of delivery:
 * - `position` is Kafka's consumer position: the offset of the next record the application gets. It is
 *   what `position()` reports and what the group layer commits. It moves when records are delivered:
 *   at once for `poll()`, record by record for the async iterator and the run loop (so a commit made while
 *   a poll's records are being processed never covers records the application has not seen).
 * - `fetchPosition` is where fetching stands: the offset after the last record taken from `buffer`.
 *
 * Invariants:
 * - `position ≤ fetchPosition`; they are equal at the start of every poll (a poll whose records were not
 *   all delivered is rolled back to `position` first; see `rollBackFetch`), and both are undefined until
 *   a starting position is chosen.
 * - `buffer[bufferPos..]` holds whole batches following the current batch; `batch[batchIndex..]` are the
 *   decoded records of the current batch not yet taken. Neither holds anything below `fetchPosition`
 *   that is still to be returned: records below it are skipped on the way out.
 * - `epoch` changes whenever `fetchPosition` jumps (seek, reset, roll-back); records polled under an older
 *   epoch are stale and are not delivered.
 * - At most one high-watermark listener on at most one log (`watch`): subscribed before the consumer
 *   first waits on the partition, kept while it stays assigned (a wait per record must not subscribe and
 *   unsubscribe per record), moved when the engine hands out a different log object for the partition
 *   (the topic was deleted and created again), and removed by `unwatch` when the partition leaves the
 *   assignment.
 */
import type { ErrorContext } from '../errors/index'
import type { PartitionLog } from '../storage/partition-log'
import type { Offset } from '../util/types'
import type { ConsumerRecord } from './types'

/** Where the current position came from: it decides how an out-of-range error describes it. */
export type PositionSource = 'committed' | 'seek' | 'reset' | 'consumed'

/** A map key for a partition; ':' cannot occur in a Kafka topic name. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}

export class PartitionState {
  readonly key: string
  /** Handed to the codec so that decode errors name the partition; allocated once. */
  readonly context: ErrorContext
  position: Offset | undefined = undefined
  fetchPosition: Offset | undefined = undefined
  positionSource: PositionSource = 'reset'
  paused = false
  /** Cleared when the partition is revoked or unassigned; chunks of an unassigned partition are stale. */
  assigned = true
  epoch = 0
  buffer: Buffer | undefined = undefined
  bufferPos = 0
  batch: readonly ConsumerRecord[] | undefined = undefined
  batchIndex = 0
  /** lastOffset + 1 of the current batch: the fetch position once its records are exhausted. */
  batchNextOffset: Offset = 0
  /**
   * The run loop's `pause` for this partition's payloads (run-loop.ts), made at its first delivery: one
   * per assigned partition rather than one per poll. A consumer has one run loop, so it never changes.
   */
  runPause: (() => () => void) | undefined = undefined
  /** The log whose high watermark `watch` listens to, and how to stop listening. */
  private watched: PartitionLog | undefined = undefined
  private unsubscribe: (() => void) | undefined = undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = partitionKey(topic, partition)
    this.context = { topic, partition }
  }

  /** Moves both positions (seek, reset, a committed starting offset) and drops fetched data. */
  setPosition(offset: Offset, source: PositionSource): void {
    this.position = offset
    this.positionSource = source
    this.rollBackFetch(offset)
  }

  /** Fetching resumes at `offset` (normally `position`): the buffered bytes are dropped, the epoch moves. */
  rollBackFetch(offset: Offset | undefined = this.position): void {
    this.fetchPosition = offset
    this.buffer = undefined
    this.bufferPos = 0
    this.batch = undefined
    this.batchIndex = 0
    this.epoch++
  }

  /** Records were handed to the application up to (not including) `nextOffset`. */
  delivered(nextOffset: Offset): void {
    if (this.position === undefined || nextOffset > this.position) {
      this.position = nextOffset
      this.positionSource = 'consumed'
    }
  }

  /**
   * Calls `wake` whenever `log`'s high watermark moves while this partition is assigned and not paused
   * (it stays subscribed: see the invariants). Allocates only when it subscribes.
   */
  watch(log: PartitionLog, wake: () => void): void {
    if (this.watched === log) return
    this.unwatch()
    this.unsubscribe = log.onHighWatermark(() => {
      if (this.assigned && !this.paused) wake()
    })
    this.watched = log
  }

  unwatch(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.watched = undefined
  }

  /** `what` describes the partition in messages: "orders-3". */
  get what(): string {
    return `${this.topic}-${this.partition}`
  }
}

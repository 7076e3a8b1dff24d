/**
 * The cleaner's per-partition lifecycle (Kafka's `LogCleaningState`: none, in progress, aborted,
 * paused(n); plus its "uncleanable partitions" as 'failed'), with a legal transition table.
 *
 *   idle ──round starts──▶ cleaning ──round ends──▶ idle
 *     │                     │    └──error──▶ failed ──resume──▶ idle
 *     │                     └──abortAndPause──▶ aborted ──round stops at its next slice──▶ paused
 *     └──────────pause──────────────────────────────────────────────────────────────────▶ paused
 *   paused ──pause──▶ paused (nested: a count) ──resume (count reaches 0)──▶ idle
 *
 * - Only 'idle' partitions start a compaction round; retention runs unless paused or aborted.
 * - 'aborted' means a round is still running but must stop; it does so at its next slice boundary
 *   (before the swap commits, or after the swap if it had already committed), deletes its `.cleaned`
 *   files, and the partition becomes 'paused' until resumed.
 * - 'failed' is a partition whose last round hit an error (a corrupt batch, an I/O error). It is not
 *   compacted again until resumed (or the engine reopens); retention still runs.
 * An illegal transition is a bug in the cleaner, not a caller error: it fails an assertion.
 */
import { assert } from '../util/assert'

export type CleanerState = 'idle' | 'cleaning' | 'aborted' | 'paused' | 'failed'

const TRANSITIONS: Readonly<Record<CleanerState, readonly CleanerState[]>> = Object.freeze({
  idle: ['cleaning', 'paused'],
  cleaning: ['idle', 'aborted', 'failed'],
  aborted: ['paused'],
  paused: ['paused', 'idle'],
  failed: ['idle', 'paused'],
})

export function canTransition(from: CleanerState, to: CleanerState): boolean {
  return TRANSITIONS[from].includes(to)
}

export class CleanerStateMachine {
  private current: CleanerState = 'idle'
  /** Outstanding pauses: the partition returns to idle when the last one is resumed. */
  private pauses = 0

  get state(): CleanerState {
    return this.current
  }

  get pauseCount(): number {
    return this.pauses
  }

  startRound(): void {
    this.transition('cleaning')
  }

  /** The round finished, failed or stopped; an abort requested during it wins. */
  endRound(failed: boolean): void {
    if (this.current !== 'aborted') {
      this.transition(failed ? 'failed' : 'idle')
      return
    }
    this.transition('paused')
    // Every pause was resumed while the round was stopping.
    if (this.pauses === 0) this.transition('idle')
  }

  /** Kafka's `abortAndPauseCleaning`: a running round is told to stop; the partition stays paused. */
  pause(): void {
    this.pauses++
    if (this.current === 'cleaning') this.transition('aborted')
    else if (this.current !== 'aborted') this.transition('paused')
  }

  /** Undoes one `pause`; also clears 'failed' so the partition is compacted again. */
  resume(): void {
    if (this.current === 'failed') {
      this.transition('idle')
      return
    }
    if (this.pauses === 0) return
    this.pauses--
    if (this.pauses === 0 && this.current === 'paused') this.transition('idle')
  }

  get isAborted(): boolean {
    return this.current === 'aborted'
  }

  private transition(to: CleanerState): void {
    assert(canTransition(this.current, to), `illegal cleaner transition ${this.current} → ${to}`)
    this.current = to
  }
}

/** Thrown inside a round when it must stop (abort requested, log closed, cleaner stopping). */
export class CleaningAborted extends Error {
  constructor(reason: string) {
    super(`cleaning aborted: ${reason}`)
    this.name = 'CleaningAborted'
  }
}

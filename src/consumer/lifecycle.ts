/**
 * The consumer's lifecycle as a state machine (STYLE 13):
 *
 *            run()            stop()
 *   ready ─────────► running ───────► stopping
 *     ▲                 │                 │
 *     └─────────────────┴─────────────────┘   (the run loop ended: stopped, or a handler failed)
 *     │                 │                 │
 *     └──── close() ────┴─────────────────┴──► closing ──► closed
 *
 * Only the transitions in the table are legal; any other is a kafkalite bug and fails an assertion.
 * What each state allows:
 * - `ready`: everything; `poll` and the async iterator work here.
 * - `running`: the run loop owns polling; a direct `poll` is ERR_INVALID_STATE (it would race the loop).
 *   Assignment, pause/resume and seek work (they take effect between records).
 * - `stopping`: as `running`, while the loop finishes the record or batch in hand.
 * - `closing`: no new work (ERR_CLOSED), but positions and the assignment stay readable, because the
 *   group layer's close hook commits them.
 * - `closed`: nothing; every method throws or rejects with ERR_CLOSED.
 */
import { ClosedError, KafkaliteError } from '../errors/index'
import { assert } from '../util/assert'

export type ConsumerState = 'ready' | 'running' | 'stopping' | 'closing' | 'closed'

const LEGAL_TRANSITIONS: Readonly<Record<ConsumerState, readonly ConsumerState[]>> = Object.freeze({
  ready: ['running', 'closing'],
  running: ['stopping', 'ready', 'closing'],
  stopping: ['ready', 'closing'],
  closing: ['closed'],
  closed: [],
})

export class ConsumerLifecycle {
  private current: ConsumerState = 'ready'

  constructor(private readonly what: string) {}

  get state(): ConsumerState {
    return this.current
  }

  /** Whether new work may start: not closing or closed. */
  get active(): boolean {
    return this.current !== 'closing' && this.current !== 'closed'
  }

  transition(to: ConsumerState): void {
    assert(LEGAL_TRANSITIONS[this.current].includes(to), `illegal consumer transition ${this.current} -> ${to} for ${this.what}`)
    this.current = to
  }

  /** Throws ERR_CLOSED once close() has begun: the guard of every operation that starts work. */
  ensureActive(): void {
    if (!this.active) throw new ClosedError(this.what)
  }

  /** Throws ERR_CLOSED after close() has finished; reads of positions and assignment pass while closing. */
  ensureNotClosed(): void {
    if (this.current === 'closed') throw new ClosedError(this.what)
  }

  /** Throws ERR_INVALID_STATE while the run loop owns polling. */
  ensureNotRunning(operation: string): void {
    this.ensureActive()
    if (this.current === 'running' || this.current === 'stopping') {
      throw new KafkaliteError('ERR_INVALID_STATE', `${operation} is not allowed while run() is active on ${this.what}; stop() it first`, {
        state: this.current,
      })
    }
  }
}

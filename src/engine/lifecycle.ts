/**
 * The engine's lifecycle as a state machine (STYLE 13):
 *
 *   opening ──► open ──► closing ──► closed
 *      └───────────────────────────────►┘   (open failed: everything opened so far is released)
 *
 * Only the transitions in the table are legal; any other is a kafkalite bug and fails an assertion.
 * What each state allows:
 * - `open`: everything.
 * - `closing`: no new public operations (they throw ERR_CLOSED), but the close hooks that run in this
 *   state (producers flushing their buffers) may still append to partition logs.
 * - `closed`: nothing; every public method throws or rejects with ERR_CLOSED.
 */
import { ClosedError } from '../errors/index'
import { assert } from '../util/assert'

export type EngineState = 'opening' | 'open' | 'closing' | 'closed'

const LEGAL_TRANSITIONS: Readonly<Record<EngineState, readonly EngineState[]>> = Object.freeze({
  opening: ['open', 'closed'],
  open: ['closing'],
  closing: ['closed'],
  closed: [],
})

export class Lifecycle {
  private current: EngineState = 'opening'

  constructor(private readonly what: string) {}

  get state(): EngineState {
    return this.current
  }

  transition(to: EngineState): void {
    assert(LEGAL_TRANSITIONS[this.current].includes(to), `illegal lifecycle transition ${this.current} -> ${to} for ${this.what}`)
    this.current = to
  }

  /** Throws ERR_CLOSED unless the engine is open: the guard of every public operation. */
  ensureOpen(): void {
    if (this.current !== 'open') throw new ClosedError(this.what)
  }

  /** Throws ERR_CLOSED once the partition logs are closed; internal users (close hooks) pass while closing. */
  ensureLogsOpen(): void {
    if (this.current !== 'open' && this.current !== 'closing') throw new ClosedError(this.what)
  }
}

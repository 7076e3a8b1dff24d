/**
 * A consumer group's states and their legal transitions, as Kafka's classic group coordinator has them
 * (`ClassicGroupState`, with each state's valid previous states):
 *
 *                 join                  all known members joined        assignment stored
 *    Empty ───────────────► PreparingRebalance ─────────────► CompletingRebalance ─────────► Stable
 *      ▲   ◄─────────────────────  │  ▲                                    │                   │
 *      │   last member gone        │  └────────── a member joins, leaves, or the subscription ─┘
 *      │   (generation stored)     │              changes; a stored assignment failed
 *      └───────────────────────────┘
 *    Any state ──► Dead (the group was deleted, or expired with no offsets left); Dead is final.
 *
 * - Empty: no members; offsets may exist (and expire after offsetsRetentionMs, counted from here).
 * - PreparingRebalance: waiting for every known member to join again (up to the rebalance timeout).
 * - CompletingRebalance: the leader's assignor has run; the new generation is being made durable.
 *   Commits are refused in this state (ERR_REBALANCE_IN_PROGRESS), as in Kafka.
 * - Stable: every member has its assignment for the current generation.
 *
 * Only the transitions in the table are legal; any other is a kafkalite bug and fails an assertion.
 */
import { assert } from '../util/assert'

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

/** Target state → the states it may be entered from (Kafka's `validPreviousStates`). */
const VALID_PREVIOUS: Readonly<Record<GroupState, readonly GroupState[]>> = Object.freeze({
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Empty', 'Stable', 'CompletingRebalance'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
})

export class GroupStateMachine {
  private current: GroupState
  private enteredAt: number

  /** A group starts Empty (new) or, when loaded from the offsets topic, Empty or Stable as its record says. */
  constructor(
    private readonly groupId: string,
    initial: 'Empty' | 'Stable',
    now: number,
  ) {
    this.current = initial
    this.enteredAt = now
  }

  get state(): GroupState {
    return this.current
  }

  /** Clock time at which the current state was entered. */
  get since(): number {
    return this.enteredAt
  }

  is(...states: GroupState[]): boolean {
    return states.includes(this.current)
  }

  transition(to: GroupState, now: number): void {
    assert(VALID_PREVIOUS[to].includes(this.current), `illegal group transition ${this.current} -> ${to} for group ${this.groupId}`)
    this.current = to
    this.enteredAt = now
  }
}

/** For tests and docs: whether `from → to` is in the table. */
export function isLegalGroupTransition(from: GroupState, to: GroupState): boolean {
  return VALID_PREVIOUS[to].includes(from)
}

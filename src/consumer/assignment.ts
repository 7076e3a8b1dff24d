/**
 * The partitions assigned to one consumer, in the order polls visit them.
 *
 * Invariants:
 * - `order` holds exactly the states in `byKey`, each once; a state leaving the assignment gets
 *   `assigned = false` (which makes its polled-but-undelivered records stale) and is never re-added:
 *   assigning the partition again creates a fresh state.
 * - `cursor` indexes `order` (0 when it is empty): the partition the next poll visits first. A poll
 *   moves it past the last partition that gave records, so one busy partition cannot starve the others
 *   (Kafka's fetcher moves a drained partition to the end of its fetch order for the same reason).
 *
 * Concurrency: synchronous; callers change it only between the synchronous steps of a poll.
 */
import { KafkaliteError } from '../errors/index'
import type { Offset } from '../util/types'
import { partitionKey, PartitionState } from './partition-state'
import type { TopicPartition } from './types'

export class Assignment {
  private readonly byKey = new Map<string, PartitionState>()
  private order: PartitionState[] = []
  private cursor = 0

  /** The number of assigned partitions. */
  get size(): number {
    return this.order.length
  }

  /**
   * The `i`-th partition (0 ≤ i < size) in visiting order, which starts at the partition the next poll
   * visits first. An index rather than a rotated copy: a poll visits the assignment once per round, and
   * a consumer at the tail of a log polls once per record or two.
   */
  inRotation(i: number): PartitionState {
    const n = this.order.length
    return this.order[(this.cursor + i) % n]!
  }

  /** The assigned partitions, in the order they were assigned. */
  get states(): readonly PartitionState[] {
    return this.order
  }

  get(tp: TopicPartition): PartitionState | undefined {
    return this.byKey.get(partitionKey(tp.topic, tp.partition))
  }

  /** The state of an assigned partition; ERR_NOT_ASSIGNED for any other. */
  require(tp: TopicPartition, operation: string): PartitionState {
    const state = this.get(tp)
    if (state === undefined) {
      throw new KafkaliteError('ERR_NOT_ASSIGNED', `${operation}: ${tp.topic}-${tp.partition} is not assigned to this consumer`, { ...tp })
    }
    return state
  }

  /** Adds partitions not yet assigned, each at its committed offset when given; assigned ones are kept. */
  add(starts: readonly (TopicPartition & { offset: Offset | null })[]): void {
    for (const start of starts) {
      if (this.get(start) !== undefined) continue
      const state = new PartitionState(start.topic, start.partition)
      if (start.offset !== null) state.setPosition(start.offset, 'committed')
      this.byKey.set(state.key, state)
      this.order.push(state)
    }
  }

  remove(states: readonly PartitionState[]): void {
    if (states.length === 0) return
    for (const state of states) {
      state.assigned = false
      state.unwatch()
      this.byKey.delete(state.key)
    }
    // The next poll still starts where it would have: at the first remaining partition from the cursor on.
    const n = this.order.length
    let next: PartitionState | undefined
    for (let i = 0; i < n && next === undefined; i++) {
      const state = this.order[(this.cursor + i) % n]!
      if (state.assigned) next = state
    }
    this.order = this.order.filter((s) => s.assigned)
    this.cursor = next === undefined ? 0 : this.order.indexOf(next)
  }

  /** The next poll starts with the partition after `state`. */
  visitNextAfter(state: PartitionState): void {
    const at = this.order.indexOf(state)
    if (at >= 0) this.cursor = (at + 1) % this.order.length
  }
}

/**
 * When a compaction round gives the event loop back: the round is a long run of short synchronous
 * steps (hash the keys of a batch, filter a batch, fill or rehash part of the offset map), and between
 * steps it asks `due()`; once the slice has run for `budgetMs`, it awaits `next()`, which yields
 * (setImmediate by default) and throws CleaningAborted when the round must stop.
 *
 * Why time and not bytes: an append that arrives while a slice runs waits for the whole slice, so the
 * longest slice is what appends feel, and the cost of a byte differs by an order of magnitude between
 * steps (a first touch of offset-map memory, a rehash, a CRC, a copy). A deadline bounds every step
 * kind alike, and bytes chosen small enough for the slowest step would cost a yield per few
 * microseconds of the fastest.
 *
 * A slice can still overrun the budget by one step; the steps are kept small for that reason (a
 * batch, or RECORDS_PER_CHECK records of a larger one; a bounded number of map slots; a read of one
 * chunk). The steps that cannot be split are per batch and linear in its size: its CRC check, the
 * inflation of a compressed batch, and the copy of a rewritten one (for a 1 MiB batch, a few hundred
 * microseconds to a millisecond or so).
 *
 * Tests: a budget of 0 ends the slice after every step, deterministically (each `due()` is true), so
 * a test can stop or interleave a round anywhere; Infinity never ends one (the round still yields
 * between groups).
 */
/**
 * Records mapped or filtered between two `due()` checks inside a batch (a large batch is worked through
 * in parts): tens of microseconds' worth, so that a clock read per check costs nothing.
 */
export const RECORDS_PER_CHECK = 256

/** The default budget: an append waits at most about this long for the cleaner. */
export const DEFAULT_SLICE_BUDGET_MS = 0.2

export class SliceBudget {
  private deadline: number

  constructor(
    private readonly budgetMs: number,
    private readonly yieldAndCheck: () => Promise<void>,
  ) {
    this.deadline = performance.now() + budgetMs
  }

  /** Whether the current slice has used its time. Costs one clock read (tens of nanoseconds). */
  readonly due = (): boolean => performance.now() >= this.deadline

  /** Ends the slice: yields, throws CleaningAborted if the round must stop, and starts a new slice. */
  async next(): Promise<void> {
    await this.yieldAndCheck()
    this.deadline = performance.now() + this.budgetMs
  }
}

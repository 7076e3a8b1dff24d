/**
 * The callers waiting on a partition's group commit (`flushUpTo`, `flush`). A waiter is satisfied by
 * the first completed round that both moves the recovery point past its offset and is numbered at least
 * its `minRound`: offset waiters (`minRound` 0) ride on whichever round covers them, including one
 * already in flight; a flush-everything waiter (offset -1) needs a round that starts after it asked,
 * since only such a round covers files changed before the request.
 *
 * Concurrency: owned by the partition log's single writer; every method is synchronous.
 */
import type { Offset } from '../util/types'

interface FlushWaiter {
  offset: Offset
  minRound: number
  resolve: () => void
  reject: (e: unknown) => void
}

export class FlushWaiters {
  private waiters: FlushWaiter[] = []

  get pending(): boolean {
    return this.waiters.length > 0
  }

  wait(offset: Offset, minRound: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ offset, minRound, resolve, reject })
    })
  }

  /** Resolves the waiters that round `round`, ending at `recoveryPoint`, satisfies; true if any remain. */
  settle(recoveryPoint: Offset, round: number): boolean {
    const waiting = this.waiters
    this.waiters = []
    for (const w of waiting) {
      if (w.offset < recoveryPoint && round >= w.minRound) w.resolve()
      else this.waiters.push(w)
    }
    return this.pending
  }

  /** Fails the waiters whose offset is at or past `offset` (those records are gone). */
  rejectFrom(offset: Offset, error: (offset: Offset) => unknown): void {
    const keep: FlushWaiter[] = []
    for (const w of this.waiters) {
      if (w.offset >= offset) w.reject(error(w.offset))
      else keep.push(w)
    }
    this.waiters = keep
  }

  rejectAll(error: unknown): void {
    const waiting = this.waiters
    this.waiters = []
    for (const w of waiting) w.reject(error)
  }
}

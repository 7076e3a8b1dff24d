/**
 * How a poll with nothing to return waits: for the first of new data (a partition log's high watermark
 * moving), a change the consumer makes to itself (assignment, seek, resume, a nudge from the group
 * layer), `wakeup()`, `close()`, or its deadline on the injected clock. No busy loop and no fixed sleep:
 * a flush that publishes new records calls the log's high-watermark listeners synchronously, and the
 * waiting poll continues in the same microtask chain.
 *
 * Cheap waits, because a consumer at the tail of a busy log waits once per record or two (thousands of
 * times a second) and almost every wait ends with data, long before its deadline:
 * - Data sources do not subscribe per wait. The consumer keeps one high-watermark listener per assigned
 *   partition for as long as the partition is assigned (see PartitionState.watch); it calls `notify`,
 *   which does nothing unless a wait is in progress.
 * - The deadline timer outlives the wait it was armed for, when the caller says another wait follows
 *   soon (the run loop: `release` only when the loop ends). A wait whose deadline is at or after the armed
 *   timer's due time keeps that timer; when it fires during a wait that is not yet due, it re-arms for
 *   what is left, and when it fires with no wait in progress, it is simply dropped. So a consumer woken by
 *   data every 0.5 ms makes about one timer per `timeoutMs` instead of one per record (creating and
 *   cancelling a Node timer per wait also allocated and toggled the event loop's ref count each time).
 *   The timer is a `keepAlive` one (the caller awaits the wait; see io/clock.ts), so a timer kept between
 *   waits holds the process for at most one `timeoutMs` after the last wait, and only while the caller
 *   has said it will wait again; a plain `poll()` releases it when it returns.
 *
 * Contract: at most one wait at a time (the consumer allows one poll at a time). The caller checks for
 * data and calls `wait` without an await in between, so no notification can fall between the two.
 */
import type { Clock, TimerHandle } from '../io/clock'

export type WakeReason = 'changed' | 'timeout' | 'wakeup' | 'closed'

/** Node timers take at most a signed 32-bit delay; a longer wait re-arms when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class WakeSignal {
  /** Resolves the wait in progress; undefined when no wait is in progress. */
  private resolveWait: ((reason: WakeReason) => void) | undefined = undefined
  /** Clock time at which the wait in progress times out. */
  private deadline = 0
  private clock: Clock | undefined = undefined
  /** The deadline timer, possibly armed for an earlier wait; `timerDue` is when it fires. */
  private timer: TimerHandle | undefined = undefined
  private timerDue = 0
  // Allocated once: a wait makes its promise and nothing else.
  private readonly capture = (resolve: (reason: WakeReason) => void): void => {
    this.resolveWait = resolve
  }
  private readonly onTimer = (): void => this.timerFired()

  /**
   * Resolves with the reason the wait ended: the first `notify`, or 'timeout' once `clock.now()` reaches
   * `deadline` (absolute clock time, in ms).
   */
  wait(clock: Clock, deadline: number): Promise<WakeReason> {
    this.deadline = deadline
    if (this.timer !== undefined && (this.clock !== clock || this.timerDue > deadline)) this.release()
    this.clock = clock
    if (this.timer === undefined) this.arm(clock.now())
    return new Promise<WakeReason>(this.capture)
  }

  /** Ends the current wait, if any, with `reason`. The deadline timer stays until `release`. */
  notify(reason: WakeReason): void {
    const resolve = this.resolveWait
    if (resolve === undefined) return
    this.resolveWait = undefined
    resolve(reason)
  }

  /** Cancels the deadline timer: no wait follows soon (a poll returned to the application, close). */
  release(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  get waiting(): boolean {
    return this.resolveWait !== undefined
  }

  private arm(now: number): void {
    const delay = Math.max(0, Math.min(this.deadline - now, MAX_TIMER_MS))
    this.timerDue = now + delay
    // The caller awaits the wait: its deadline keeps the process alive until the wait ends.
    this.timer = this.clock!.setTimeout(this.onTimer, delay, { keepAlive: true })
  }

  private timerFired(): void {
    this.timer = undefined
    // The wait this timer was armed for ended first, and no other is in progress: nothing to bound.
    if (this.resolveWait === undefined) return
    const now = this.clock!.now()
    if (now >= this.deadline) this.notify('timeout')
    else this.arm(now) // armed for an earlier wait, or a deadline beyond one Node timer
  }
}

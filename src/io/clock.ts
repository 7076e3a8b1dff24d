/**
 * The clock port. Everything time-based (segment rolls by `segmentMs`, `flushMs`, retention, session
 * timeouts, linger) reads time and schedules timers through this interface, so tests drive time with
 * ManualClock and never sleep.
 */
export interface TimerHandle {
  cancel(): void
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  now(): number
  /**
   * Runs `fn` after `delayMs`. Background timers never keep the host process alive (Node timers are
   * unref'd): a library must not stop its host from exiting. `keepAlive` is for the one exception, a
   * timer that bounds a wait the caller is awaiting (a consumer's poll): a script awaiting a poll must
   * not exit in the middle of it just because nothing else is pending.
   */
  setTimeout(fn: () => void, delayMs: number, options?: { keepAlive?: boolean }): TimerHandle
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now()
  }

  setTimeout(fn: () => void, delayMs: number, options: { keepAlive?: boolean } = {}): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs))
    if (options.keepAlive !== true) t.unref()
    return { cancel: () => clearTimeout(t) }
  }
}

interface ManualTimer {
  due: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in due-time order (ties in
 * scheduling order), each seeing `now()` equal to its own due time, as a real clock would.
 */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private timers: ManualTimer[] = []

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs
  }

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false }
    this.timers.push(timer)
    return { cancel: () => void (timer.cancelled = true) }
  }

  /** Number of timers still waiting to fire. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }

  advance(ms: number): void {
    const target = this.current + ms
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled)
      let next: ManualTimer | undefined
      for (const t of this.timers) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t
      }
      if (next === undefined) break
      next.cancelled = true
      this.current = Math.max(this.current, next.due)
      next.fn()
    }
    this.current = target
  }

  /** Sets the time without firing timers that became due (for tests of stale state). */
  set(ms: number): void {
    this.current = ms
  }
}

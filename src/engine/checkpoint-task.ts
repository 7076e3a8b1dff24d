/**
 * The periodic writing of the log-dir checkpoints (Kafka's `kafka-recovery-point-checkpoint` and
 * `kafka-log-start-offset-checkpoint` scheduler tasks). Both files go out together, at the shorter of
 * the two configured intervals; an interval of 0 disables a task (close still writes both files).
 *
 * The next run is scheduled when the previous one has finished, so runs never overlap, and the timer
 * comes from the injected clock (SystemClock timers are unref'd: they never keep the process alive).
 * A failed run is dropped: a stale checkpoint only makes the next unclean open scan more, never lose
 * data, and the next interval tries again.
 */
import type { Clock, TimerHandle } from '../io/clock'

export class CheckpointTask {
  private timer: TimerHandle | undefined
  private running: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly clock: Clock,
    private readonly intervalsMs: readonly number[],
    private readonly write: () => Promise<void>,
  ) {}

  start(): void {
    const intervals = this.intervalsMs.filter((ms) => ms > 0)
    if (this.stopped || intervals.length === 0) return
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.running = this.write()
        .catch(() => undefined)
        .finally(() => this.start())
    }, Math.min(...intervals))
  }

  /** Cancels the next run; a run in progress finishes (see `idle`). */
  stop(): void {
    this.stopped = true
    this.timer?.cancel()
    this.timer = undefined
  }

  /** Resolves when the run in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.running
  }
}

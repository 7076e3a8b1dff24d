/**
 * The cleaner's background timer (Kafka's cleaner thread loop and `kafka-log-retention` task, as one
 * periodic task). A pass runs every `intervalMs` on the injected clock; the next one is scheduled when
 * the previous one has finished, so passes never overlap, and SystemClock timers are unref'd, so the
 * cleaner never keeps the host process alive. A failed pass is reported to `onError` and the next
 * interval runs anyway.
 *
 * Lifecycle: stopped → running (`start`, idempotent) → stopped for good (`stop`, idempotent; resolves
 * when the pass in progress, if any, has finished).
 */
import type { Clock, TimerHandle } from '../io/clock'

export class CleanerScheduler {
  private timer: TimerHandle | undefined
  private current: Promise<void> = Promise.resolve()
  private state: 'stopped' | 'running' | 'stopped-for-good' = 'stopped'

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.state !== 'stopped') return
    this.state = 'running'
    this.schedule()
  }

  async stop(): Promise<void> {
    this.state = 'stopped-for-good'
    this.timer?.cancel()
    this.timer = undefined
    await this.current
  }

  /** Resolves when the pass in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.current
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.current = this.pass()
        .catch((e: unknown) => this.onError(e))
        .finally(() => {
          if (this.state === 'running') this.schedule()
        })
    }, this.intervalMs)
  }
}

/**
 * How a poll with nothing to return waits: for the first of new data (a partition log's high watermark
 * moving), a change the consumer makes to itself (assignment, seek, resume, a nudge from the group
 * layer), `wakeup()`, `close()`, or its timeout on the injected clock. No busy loop and no fixed sleep:
 * a flush that publishes new records calls the log's high-watermark listeners synchronously, and the
 * waiting poll continues in the same microtask chain.
 *
 * Contract: at most one wait at a time (the consumer allows one poll at a time). The caller checks for
 * data and subscribes without an await in between, so no notification can fall between the two.
 */
import type { Clock } from '../io/clock'

export type WakeReason = 'changed' | 'timeout' | 'wakeup' | 'closed'

export class WakeSignal {
  private wake: ((reason: WakeReason) => void) | undefined = undefined

  /**
   * Resolves with the reason the wait ended. `subscribe` registers `onData` with whatever can deliver new
   * data and returns the unsubscribers; they are all called when the wait ends, whatever ends it.
   */
  wait(clock: Clock, timeoutMs: number, subscribe: (onData: () => void) => (() => void)[]): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      let unsubscribers: (() => void)[] = []
      let timer: { cancel(): void } | undefined
      const release = (): void => {
        timer?.cancel()
        for (const unsubscribe of unsubscribers) unsubscribe()
      }
      const finish = (reason: WakeReason): void => {
        if (this.wake !== finish) return
        this.wake = undefined
        release()
        resolve(reason)
      }
      this.wake = finish
      unsubscribers = subscribe(() => finish('changed'))
      // The caller awaits this poll: its timeout keeps the process alive until the poll returns.
      timer = clock.setTimeout(() => finish('timeout'), timeoutMs, { keepAlive: true })
      // A subscriber that reported data synchronously has already ended the wait.
      if (this.wake !== finish) release()
    })
  }

  /** Ends the current wait, if any, with `reason`. */
  notify(reason: WakeReason): void {
    this.wake?.(reason)
  }

  get waiting(): boolean {
    return this.wake !== undefined
  }
}

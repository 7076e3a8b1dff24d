/**
 * The producer's memory bound (Kafka's BufferPool, as accounting only): `send` reserves the bytes of
 * its records before they are buffered, and they are released when their batch is done (appended, and
 * fsynced with acks 'all') or failed. Whoever cannot get space waits, first come first served, up to
 * `maxBlockMs`, then fails with ERR_BUFFER_EXHAUSTED. So a producer faster than its disk slows its
 * callers down instead of growing without bound.
 *
 * Invariants: `used ≤ capacity`; waiters are served strictly in arrival order (a small request never
 * overtakes a large one that waits, which would starve it); a reservation is granted whole or not at all.
 *
 * Concurrency: synchronous except the promise of a waiting `reserve`, which is resolved from `release`
 * (and rejected by its timer or `failWaiters`); the space is taken before the promise resolves, so no
 * await sits between granting and using it.
 */
import { KafkaliteError } from '../errors/index'
import type { Clock, TimerHandle } from '../io/clock'

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (e: unknown) => void
  timer: TimerHandle | undefined
}

export class BufferPool {
  private usedBytes = 0
  private readonly waiters: Waiter[] = []

  constructor(
    readonly capacity: number,
    private readonly clock: Clock,
  ) {}

  /** Bytes reserved now (never more than `capacity`). */
  get used(): number {
    return this.usedBytes
  }

  /** Number of reservations waiting for space. */
  get waiting(): number {
    return this.waiters.length
  }

  /** Takes `bytes` now if nobody waits and they fit; returns whether it did. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || this.usedBytes + bytes > this.capacity) return false
    this.usedBytes += bytes
    return true
  }

  /**
   * Resolves once `bytes` are reserved (they are taken before it resolves), or rejects with
   * ERR_BUFFER_EXHAUSTED after `maxBlockMs` without space. The caller has checked `bytes ≤ capacity`.
   */
  reserve(bytes: number, maxBlockMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, timer: undefined }
      const expire = (): void => {
        this.remove(waiter)
        reject(
          new KafkaliteError(
            'ERR_BUFFER_EXHAUSTED',
            `Failed to allocate ${bytes} bytes within maxBlockMs (${maxBlockMs} ms): ${this.usedBytes} of bufferMemory ${this.capacity} bytes are ` +
              'held by records waiting to be written. The disk is slower than the producer; wait for sends to complete, or raise bufferMemory or maxBlockMs.',
            { bytes, bufferMemory: this.capacity, used: this.usedBytes, maxBlockMs },
          ),
        )
        // The head may have been the one that did not fit; those behind it may.
        this.grant()
      }
      this.waiters.push(waiter)
      if (maxBlockMs <= 0) expire()
      else waiter.timer = this.clock.setTimeout(expire, maxBlockMs)
    })
  }

  release(bytes: number): void {
    this.usedBytes -= bytes
    this.grant()
  }

  /** Rejects every waiting reservation (the producer is closing). */
  failWaiters(error: unknown): void {
    for (const w of this.waiters.splice(0)) {
      w.timer?.cancel()
      w.reject(error)
    }
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.usedBytes + this.waiters[0]!.bytes <= this.capacity) {
      const w = this.waiters.shift()!
      w.timer?.cancel()
      this.usedBytes += w.bytes
      w.resolve()
    }
  }

  private remove(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter)
    if (i >= 0) this.waiters.splice(i, 1)
  }
}

import { afterEach, describe, expect, it, vi } from 'vitest'
import { ManualClock, SystemClock } from '../../src/io/index'

describe('ManualClock', () => {
  it('fires nothing until advanced, then fires due timers in due order with now() at each due time', () => {
    const clock = new ManualClock(1_000)
    const fired: string[] = []
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 300)
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100)
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200)
    expect(fired).toEqual([])
    clock.advance(250)
    expect(fired).toEqual(['a@1100', 'b@1200'])
    expect(clock.now()).toBe(1_250)
    clock.advance(50)
    expect(fired).toEqual(['a@1100', 'b@1200', 'c@1300'])
    expect(clock.pendingTimers()).toBe(0)
  })

  it('fires timers due at the same time in scheduling order', () => {
    const clock = new ManualClock(0)
    const fired: number[] = []
    for (const i of [1, 2, 3]) clock.setTimeout(() => fired.push(i), 10)
    clock.advance(10)
    expect(fired).toEqual([1, 2, 3])
  })

  it('fires a timer scheduled by a firing timer within the same advance when it is due', () => {
    const clock = new ManualClock(0)
    const fired: number[] = []
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 10), 10)
    clock.advance(15)
    expect(fired).toEqual([])
    clock.advance(5)
    expect(fired).toEqual([20])
  })

  it('a cancelled timer never fires', () => {
    const clock = new ManualClock(0)
    const fn = vi.fn()
    clock.setTimeout(fn, 10).cancel()
    clock.advance(100)
    expect(fn).not.toHaveBeenCalled()
    expect(clock.pendingTimers()).toBe(0)
  })

  it('set() moves time without firing timers', () => {
    const clock = new ManualClock(0)
    const fn = vi.fn()
    clock.setTimeout(fn, 10)
    clock.set(100)
    expect(fn).not.toHaveBeenCalled()
    clock.advance(0)
    expect(fn).toHaveBeenCalledOnce()
  })
})

describe('SystemClock', () => {
  afterEach(() => vi.restoreAllMocks())

  it('reads wall-clock time', () => {
    const before = Date.now()
    const now = new SystemClock().now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })

  it('unrefs its timers so that a pending timer never keeps the host process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const handle = new SystemClock().setTimeout(() => {}, 60_000)
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(false)
    handle.cancel()
  })

  it('fires after the delay unless cancelled', async () => {
    const clock = new SystemClock()
    const cancelled = vi.fn()
    clock.setTimeout(cancelled, 1).cancel()
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1))
    expect(cancelled).not.toHaveBeenCalled()
  })
})

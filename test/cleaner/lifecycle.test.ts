/**
 * The cleaner's per-partition state machine, pausing and aborting a running round, and the background
 * scheduler on the manual clock.
 */
import { describe, expect, it } from 'vitest'
import { CleanerStateMachine, canTransition, type CleanerState } from '../../src/cleaner/cleaner-state'
import { appendAll, fixture, keyedBatch, readAllChecked, show } from './helpers'

const STATES: CleanerState[] = ['idle', 'cleaning', 'aborted', 'paused', 'failed']

describe('Cleaner > state machine', () => {
  it('allows exactly the transitions of the table', () => {
    const legal = STATES.flatMap((from) => STATES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`))
    expect(legal).toEqual([
      'idle→cleaning',
      'idle→paused',
      'cleaning→idle',
      'cleaning→aborted',
      'cleaning→failed',
      'aborted→paused',
      'paused→idle',
      'paused→paused',
      'failed→idle',
      'failed→paused',
    ])
  })

  it('turns a pause during a round into aborted, then paused when the round stops, and idle after the last resume', () => {
    const m = new CleanerStateMachine()
    m.startRound()
    m.pause()
    m.pause()
    expect(m.state).toBe('aborted')
    m.endRound(false)
    expect(m.state).toBe('paused')
    m.resume()
    expect(m.state).toBe('paused')
    m.resume()
    expect(m.state).toBe('idle')
  })

  it('returns to idle when every pause was resumed before the aborted round stopped', () => {
    const m = new CleanerStateMachine()
    m.startRound()
    m.pause()
    m.resume()
    expect(m.state).toBe('aborted')
    m.endRound(false)
    expect(m.state).toBe('idle')
  })

  it('fails an illegal transition as an internal assertion', () => {
    const m = new CleanerStateMachine()
    m.startRound()
    expect(() => m.startRound()).toThrow(/illegal cleaner transition cleaning → cleaning/)
  })
})

describe('Cleaner > pause and abort', () => {
  it('stops a running round at its next slice, removes its .cleaned files, and cleans nothing until resumed', async () => {
    const waiting: (() => void)[] = []
    const f = await fixture({ segmentBytes: 100 }, { yieldSlice: () => new Promise<void>((resolve) => waiting.push(resolve)), sliceBudgetMs: 0, chunkBytes: 100 })
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('a', '1'), kv('a', '2'), kv('b', '1'), kv('a', '3')])
    f.log.roll()
    const pass = f.cleaner.runOnce()
    while (waiting.length === 0) await new Promise((r) => setImmediate(r))
    expect(f.cleaner.describe(f.log, f.config).cleanerState).toBe('cleaning')
    const paused = f.cleaner.abortAndPause(f.log)
    expect(f.cleaner.describe(f.log, f.config).cleanerState).toBe('aborted')
    while (waiting.length > 0) {
      waiting.shift()!()
      await new Promise((r) => setImmediate(r))
    }
    await paused
    const report = await pass
    expect(report.compactions).toEqual([])
    expect(report.errors).toEqual([])
    expect(f.cleaner.describe(f.log, f.config).cleanerState).toBe('paused')
    expect(f.fs.readdir('/d/t-0').filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'))).toEqual([])
    expect(show(readAllChecked(f.log))).toEqual(['a=1@0', 'a=2@1', 'b=1@2', 'a=3@3'])

    const again = f.cleaner.runOnce()
    expect((await again).compactions).toEqual([])
    f.cleaner.resume(f.log)
    expect(f.cleaner.describe(f.log, f.config).cleanerState).toBe('idle')
    const resumed = f.cleaner.runOnce()
    while ((await Promise.race([resumed.then(() => 'done'), new Promise((r) => setImmediate(() => r('tick')))])) === 'tick') waiting.shift()?.()
    expect((await resumed).compactions).toHaveLength(1)
    expect(show(readAllChecked(f.log))).toEqual(['b=1@2', 'a=3@3'])
  })

  it('marks a partition failed on a corrupt batch and keeps retention running for it', async () => {
    const f = await fixture({ cleanupPolicy: 'compact,delete', retentionMs: 60_000 })
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('a', '1'), kv('a', '2'), kv('b', '1')])
    f.log.roll()
    // Flip a byte inside the second segment's record (covered by the CRC).
    const path = f.log.segmentList[1]!.logPath
    const h = f.fs.open(path, 'rw')
    h.write(Buffer.from([0xff]), 0, 1, 66)
    h.close()
    const report = await f.cleaner.runOnce()
    expect(report.errors.map((e) => (e.error as { code?: string }).code)).toEqual(['ERR_CORRUPT_RECORD'])
    expect(f.cleaner.describe(f.log, f.config)).toMatchObject({ cleanerState: 'failed' })
    expect(f.fs.readdir('/d/t-0').filter((n) => n.endsWith('.cleaned'))).toEqual([])
    expect((await f.cleaner.runOnce()).errors).toEqual([])
    f.clock.advance(120_000)
    expect((await f.cleaner.runOnce()).deleted.map((e) => e.reason)).toEqual(['retention-ms', 'retention-ms', 'retention-ms'])
  })
})

describe('Cleaner > scheduler', () => {
  it('runs a pass every intervalMs on the clock, and stops', async () => {
    const f = await fixture({ segmentBytes: 100, minCleanableDirtyRatio: 0.01 }, { intervalMs: 1000 })
    const kv = (key: string, value: string) => keyedBatch([{ key, value }], f.clock)
    appendAll(f.log, [kv('a', '1'), kv('a', '2')])
    f.log.roll()
    f.cleaner.start()
    f.cleaner.start()
    f.clock.advance(999)
    await f.cleaner.idle()
    expect(show(readAllChecked(f.log))).toEqual(['a=1@0', 'a=2@1'])
    f.clock.advance(1)
    await f.cleaner.idle()
    expect(show(readAllChecked(f.log))).toEqual(['a=2@1'])
    appendAll(f.log, [kv('a', '3')])
    f.log.roll()
    f.clock.advance(1000)
    await f.cleaner.idle()
    expect(show(readAllChecked(f.log))).toEqual(['a=3@2'])
    await f.cleaner.stop()
    await f.cleaner.stop()
    expect(f.clock.pendingTimers()).toBe(0)
    appendAll(f.log, [kv('a', '4')])
    f.log.roll()
    f.clock.advance(5000)
    await f.cleaner.idle()
    expect(show(readAllChecked(f.log))).toEqual(['a=3@2', 'a=4@3'])
    expect(f.fs.readdir('/d/t-0').filter((n) => n.endsWith('.deleted'))).toEqual([])
  })
})

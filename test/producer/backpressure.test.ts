/**
 * Backpressure: a producer faster than its disk holds at most `bufferMemory` bytes of records; `send`
 * waits (first come, first served) for space and fails with ERR_BUFFER_EXHAUSTED after `maxBlockMs` of
 * the injected clock, having buffered nothing of its call.
 */
import { describe, expect, it } from 'vitest'
import { isKafkaliteError } from '../../src/errors/index'
import { ManualClock } from '../../src/io/clock'
import { BufferPool } from '../../src/producer/buffer-pool'
import { expectCode } from '../engine/helpers'
import { FakeHost, settle, values } from './helpers'

/** Makes every fsync of `host`'s logs wait until `release()` (a disk slower than the producer). */
function slowDisk(host: FakeHost): { release: () => number } {
  const held: (() => void)[] = []
  host.wrap = (log) => ({
    append: (data, options) => log.append(data, options),
    flushUpTo: (offset) => new Promise<void>((resolve, reject) => held.push(() => void log.flushUpTo(offset).then(resolve, reject))),
  })
  return {
    release: () => {
      const n = held.length
      for (const r of held.splice(0)) r()
      return n
    },
  }
}

const RECORD = { value: 'x'.repeat(300) }

describe('Producer > backpressure', () => {
  it('a producer faster than the disk never holds more than bufferMemory bytes, and every send completes once the disk catches up', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    const disk = slowDisk(host)
    const bufferMemory = 4096
    const producer = host.producer({ bufferMemory, lingerMs: 0 })
    const results: number[] = []
    const sends = Array.from({ length: 100 }, (_, i) =>
      producer.send('t', { ...RECORD, partition: i % 2, value: `${i}`.padEnd(300, '.') }).then((r) => void results.push(i)),
    )
    let maxHeld = producer.bufferedBytes
    expect(results).toEqual([])
    for (let round = 0; results.length < 100 && round < 1000; round++) {
      await settle()
      maxHeld = Math.max(maxHeld, producer.bufferedBytes)
      expect(producer.bufferedBytes).toBeLessThanOrEqual(bufferMemory)
      disk.release()
    }
    await Promise.all(sends)
    expect(maxHeld).toBeGreaterThan(bufferMemory / 2)
    expect(maxHeld).toBeLessThanOrEqual(bufferMemory)
    // Per partition, in send order, each record once.
    expect(values(host.realLog('t', 0)).map((v) => Number(v!.replace(/\.+$/, '')))).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i))
    expect(values(host.realLog('t', 1)).map((v) => Number(v!.replace(/\.+$/, '')))).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1))
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })

  it('send rejects with ERR_BUFFER_EXHAUSTED after maxBlockMs without space; nothing of that call is buffered or written', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const disk = slowDisk(host)
    const producer = host.producer({ bufferMemory: 1000, maxBlockMs: 500, lingerMs: 0 })
    const first = [producer.send('t', RECORD), producer.send('t', RECORD), producer.send('t', RECORD)]
    await settle()
    const held = producer.bufferedBytes
    expect(held).toBeGreaterThan(0)
    let outcome: unknown
    const blocked = producer.send('t', [{ value: 'small' }, RECORD]).then(
      () => (outcome = 'sent'),
      (e: unknown) => (outcome = e),
    )
    host.clock.advance(499)
    await settle()
    expect(outcome).toBeUndefined()
    host.clock.advance(1)
    await blocked
    expect(isKafkaliteError(outcome, 'ERR_BUFFER_EXHAUSTED')).toBe(true)
    expect((outcome as Error).message).toMatch(/maxBlockMs \(500 ms\).*bufferMemory 1000/)
    expect(producer.bufferedBytes).toBe(held)
    disk.release()
    await Promise.all(first)
    await producer.flush()
    disk.release()
    expect(values(host.realLog('t', 0))).toHaveLength(3)
    await producer.close()
  })

  it('maxBlockMs 0 fails at once when the buffer is full', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const disk = slowDisk(host)
    const producer = host.producer({ bufferMemory: 700, maxBlockMs: 0, lingerMs: 0 })
    const first = [producer.send('t', RECORD), producer.send('t', RECORD)]
    await expectCode(() => producer.send('t', RECORD), 'ERR_BUFFER_EXHAUSTED')
    disk.release()
    await Promise.all(first)
    await producer.close()
  })

  it('a call larger than the whole bufferMemory is refused at once (it could never fit)', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ bufferMemory: 1000, lingerMs: 0 })
    const e = await expectCode(() => producer.send('t', [RECORD, RECORD, RECORD, RECORD]), 'ERR_BUFFER_EXHAUSTED')
    expect(e.message).toMatch(/more than the whole bufferMemory \(1000\)/)
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    await producer.close()
  })

  it('close fails sends still waiting for buffer space with ERR_CLOSED, and flushes the rest', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const disk = slowDisk(host)
    const producer = host.producer({ bufferMemory: 700, lingerMs: 0 })
    const first = [producer.send('t', RECORD), producer.send('t', RECORD)]
    const waiting = producer.send('t', RECORD)
    const closing = producer.close()
    await expectCode(() => waiting, 'ERR_CLOSED')
    while ((await Promise.race([closing.then(() => true), settle().then(() => false)])) === false) disk.release()
    expect((await Promise.all(first)).map((r) => r.offset)).toEqual([0, 1])
  })
})

describe('BufferPool', () => {
  it('serves waiters in arrival order: a small request does not overtake a large one', async () => {
    const pool = new BufferPool(100, new ManualClock())
    expect(pool.tryReserve(90)).toBe(true)
    const order: string[] = []
    const large = pool.reserve(50, 1000).then(() => order.push('large'))
    const small = pool.reserve(5, 1000).then(() => order.push('small'))
    expect(pool.tryReserve(5)).toBe(false) // someone is waiting: no overtaking
    pool.release(45)
    await Promise.all([large, small])
    expect(order).toEqual(['large', 'small'])
    expect(pool.used).toBe(100)
  })

  it('when the head waiter times out, those behind it that fit are served', async () => {
    const clock = new ManualClock()
    const pool = new BufferPool(100, clock)
    pool.tryReserve(60)
    const large = pool.reserve(80, 10)
    const small = pool.reserve(30, 1000)
    clock.advance(10)
    await expect(large).rejects.toMatchObject({ code: 'ERR_BUFFER_EXHAUSTED' })
    await small
    expect(pool.used).toBe(90)
  })
})

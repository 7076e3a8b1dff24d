/**
 * The durability dial: what each `acks` level waits for, and what an acknowledged record survives —
 * a process crash (the OS keeps what was written) or a machine crash (only what was fsynced) — checked
 * with MemoryFileSystem's processCrash() and crash(), and with seeded machine crashes at random points
 * for acks 'all' (no acknowledged record is ever lost).
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem, SimulatedCrash } from '../../src/io/memory-fs'
import type { RecordMetadata } from '../../src/producer/records'
import { FakeHost, seededRandom, settle, values } from './helpers'

async function valuesAfter(fs: MemoryFileSystem, topics: Parameters<typeof FakeHost.create>[0]): Promise<Map<string, (string | null)[]>> {
  const host = await FakeHost.create(topics, fs)
  const out = new Map<string, (string | null)[]>()
  for (const [key, log] of host.logs) out.set(key, values(log))
  return out
}

describe('Producer > acks', () => {
  it('acks 0 resolves once the record is buffered (offset -1, partition known), before any append', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    const producer = host.producer({ acks: 0, lingerMs: 1000 })
    expect(await producer.send('t', { value: 'v', partition: 1 })).toEqual({ topic: 't', partition: 1, offset: -1, timestamp: host.clock.now() })
    expect(host.realLog('t', 1).logEndOffset).toBe(0)
    host.clock.advance(1000)
    expect(values(host.realLog('t', 1))).toEqual(['v'])
    await producer.close()
  })

  it('acks 1 resolves once appended: a process crash keeps the record; on a durability "none" topic a machine crash loses it', async () => {
    const topics = { t: { partitions: 1, config: { durability: 'none' as const } } }
    const host = await FakeHost.create(topics)
    const producer = host.producer({ acks: 1, lingerMs: 0 })
    expect((await producer.send('t', { value: 'acked' })).offset).toBe(0)
    const afterMachineCrash = host.fs.crash()
    const afterProcessCrash = host.fs.processCrash()
    expect((await valuesAfter(afterProcessCrash, topics)).get('t-0')).toEqual(['acked'])
    expect((await valuesAfter(afterMachineCrash, topics)).get('t-0')).toEqual([])
  })

  it('acks "all" resolves only once the batch is fsynced', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const held: (() => void)[] = []
    host.wrap = (log) => ({
      append: (data, options) => log.append(data, options),
      flushUpTo: (offset) => new Promise<void>((resolve, reject) => held.push(() => void log.flushUpTo(offset).then(resolve, reject))),
    })
    const producer = host.producer({ lingerMs: 0 })
    let result: RecordMetadata | undefined
    void producer.send('t', { value: 'v' }).then((r) => (result = r))
    await settle()
    expect(host.realLog('t', 0).logEndOffset).toBe(1)
    expect(result).toBeUndefined()
    for (const release of held) release()
    await settle()
    expect(result).toMatchObject({ offset: 0 })
    await producer.close()
  })

  it.each(['fsync', 'none'] as const)('acks "all": a machine crash after the send resolves keeps the record (durability "%s")', async (durability) => {
    const topics = { t: { partitions: 1, config: { durability } } }
    const host = await FakeHost.create(topics)
    const producer = host.producer({ acks: 'all', lingerMs: 0 })
    await producer.send('t', [{ value: 'a' }, { value: 'b' }])
    expect((await valuesAfter(host.fs.crash(), topics)).get('t-0')).toEqual(['a', 'b'])
  })

  it('acks "all": concurrent sends share fsyncs (group commit)', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ acks: 'all', lingerMs: 0 })
    host.fs.resetStats()
    const sends = Array.from({ length: 50 }, (_, i) => producer.send('t', { value: `v${i}` }))
    expect((await Promise.all(sends)).map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    // One append per send, but the fsyncs cover many appends each.
    expect(host.fs.stats().syncs).toBeLessThanOrEqual(3)
    await producer.close()
  })

  it('acks "all": no acknowledged record is lost in machine crashes at random points (seeded, torn writes)', async () => {
    const seed = Number(process.env.KAFKALITE_SEED ?? Date.now() % 1_000_000)
    console.log(`producer machine-crash seed ${seed} (KAFKALITE_SEED=${seed} to replay)`)
    const random = seededRandom(seed)
    const topics = { t: { partitions: 3 } }
    for (let round = 0; round < 40; round++) {
      const host = await FakeHost.create(topics)
      const producer = host.producer({ acks: 'all', lingerMs: 0, batchSize: 200, requestTimeoutMs: 0, deliveryTimeoutMs: 1000 })
      host.fs.crashAtOp(1 + Math.floor(random() * 150))
      const acknowledged: string[] = []
      const unexpected: unknown[] = []
      let crashed = false
      for (let wave = 0; wave < 500 && !crashed; wave++) {
        const sends = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => {
          const value = `r${round}-w${wave}-${i}`
          return producer.send('t', { key: `k${Math.floor(random() * 10)}`, value }).then(
            () => void acknowledged.push(value),
            (e: unknown) => {
              // After the crash every operation fails: appends with SimulatedCrash, fsyncs with an ERR_IO
              // caused by it (retried until deliveryTimeoutMs). Nothing else may fail.
              if (e instanceof SimulatedCrash || (e as Error).cause instanceof SimulatedCrash) crashed = true
              else unexpected.push(e)
            },
          )
        })
        // A crash during an fsync reaches the producer as a retriable ERR_IO: let its retries run.
        let settled = false
        void Promise.all(sends).then(() => (settled = true))
        while (!settled) {
          await settle()
          host.clock.advance(100)
        }
      }
      expect(unexpected).toEqual([])
      expect(crashed, `round ${round} should reach its crash point`).toBe(true)
      const survived = await valuesAfter(host.fs.crash({ tornWrites: true, seed: seed + round }), topics)
      const all = [...survived.values()].flat()
      const missing = acknowledged.filter((v) => !all.includes(v))
      expect(missing, `seed ${seed} round ${round}`).toEqual([])
      expect(new Set(all).size, `seed ${seed} round ${round}: duplicates`).toBe(all.length)
    }
  })
})

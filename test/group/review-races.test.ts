/**
 * Races between a member's awaited steps and the group: a close while a join is in flight.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { GatedFileSystem, openEngineEnv, openEnv, owned, pollAll, pollNow, settle, type Env } from './helpers'

describe('Consumer groups > races', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it.each(Array.from({ length: 12 }, (_, i) => i))('a member closed while its first join is in flight does not stay in the group holding partitions (close after %i ticks)', async (ticks) => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 2 })
    const group = kl.consumerGroup('g')
    const a = group.consumer({ topics: ['t'] })
    const polling = a.poll({ timeoutMs: 0 }) // the first join waits for __consumer_offsets to exist
    for (let i = 0; i < ticks; i++) await Promise.resolve()
    await a.close()
    await polling
    await settle()
    const b = group.consumer({ topics: ['t'] })
    await pollAll([b], 4)
    expect(group.describe().members.map((m) => m.memberId)).toEqual([b.memberId])
    expect(owned(b)).toEqual(['t-0', 't-1'])
  })
})

describe('Consumer groups > commits racing rebalances', () => {
  it('a rebalance that overtakes a generation before it was handed out leaves the members on theirs: a cooperative member keeps committing what it consumes', async () => {
    const fs = new GatedFileSystem()
    const engineEnv = await openEngineEnv({}, fs)
    try {
      await engineEnv.engine.createTopic('t', { partitions: 2 })
      const group = engineEnv.group('g')
      const a = group.consumer({ topics: ['t'] })
      await pollAll([a], 2)
      const generation = a.generation
      const b = group.consumer({ topics: ['t'] })
      await pollNow(b)
      fs.hold()
      await pollNow(a) // every member has joined: the next generation waits for its fsync
      expect(group.state).toBe('CompletingRebalance')
      const c = group.consumer({ topics: ['t'] })
      await pollNow(c) // a third member: the rebalance starts over before anyone got the new generation
      expect(group.state).toBe('PreparingRebalance')
      fs.release()
      await settle()
      expect(a.generation).toBe(generation)
      expect(owned(a)).toEqual(['t-0', 't-1'])
      // a still owns both partitions in the only generation it was given, and consumes them meanwhile.
      await a.commit([{ topic: 't', partition: 0, offset: 0 }])
      expect(group.describe().partitions.find((p) => p.partition === 0)!.committedOffset).toBe(0)
      await pollAll([a, b, c], 6)
      expect(group.state).toBe('Stable')
      await a.commit()
    } finally {
      fs.release()
      await engineEnv.engine.close()
    }
  })
})

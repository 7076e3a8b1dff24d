/**
 * Races between a member's awaited steps and the group: a close while a join is in flight.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openEnv, owned, pollAll, settle, type Env } from './helpers'

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

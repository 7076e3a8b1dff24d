/**
 * A group member's run loop (the consumer's KafkaJS-style `run`): rebalances happen between batches, never
 * while a handler is processing a record, and with a commit per processed record a partition that moves
 * to another member is continued where the first one stopped.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openEnv, produce, settle, type Env } from './helpers'

describe('Consumer groups > run loop', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('eachMessage with a commit per record: a member joining mid-stream takes partitions over without a record processed twice or skipped', async () => {
    env = await openEnv()
    const { kl, clock } = env
    await kl.createTopic('jobs', { partitions: 4 })
    const group = kl.consumerGroup('workers', { autoOffsetReset: 'earliest', fetchMaxWaitMs: 1000 })
    const processed: string[] = []
    let inHandler = false
    const events: string[] = []
    const start = (name: string) => {
      const member = group.consumer({
        topics: ['jobs'],
        clientId: name,
        listeners: {
          assigned: (tps) => void events.push(`${name} assigned ${tps.length} while in handler: ${inHandler}`),
          revoked: (tps) => void events.push(`${name} revoked ${tps.length} while in handler: ${inHandler}`),
        },
      })
      const done = member.run({
        eachMessage: async ({ topic, partition, message }) => {
          inHandler = true
          processed.push(message.value!.toString())
          await member.commit([{ topic, partition, offset: message.offset + 1 }])
          inHandler = false
        },
      })
      return { member, done }
    }
    const a = start('a')
    let n = 0
    const step = async () => {
      for (let p = 0; p < 4; p++) produce(kl, 'jobs', p, [`job${n++}`])
      await settle(10)
      clock.advance(1000)
      await settle(10)
    }
    for (let i = 0; i < 3; i++) await step()
    const b = start('b')
    for (let i = 0; i < 6; i++) await step()
    expect(a.member.ownedPartitions().length + b.member.ownedPartitions().length).toBe(4)
    expect(b.member.ownedPartitions()).toHaveLength(2)
    await a.member.stop()
    await b.member.stop()
    await Promise.all([a.done, b.done])
    expect(processed.sort()).toEqual(Array.from({ length: n }, (_, i) => `job${i}`).sort())
    expect(new Set(processed).size).toBe(processed.length)
    expect(events.every((e) => e.endsWith('false'))).toBe(true)
    expect(events.some((e) => e.startsWith('a revoked 2'))).toBe(true)
  })
})

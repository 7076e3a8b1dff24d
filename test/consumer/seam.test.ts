/**
 * The seam the group layer builds on (see the comment at the top of src/consumer/consumer.ts): a
 * coordinator whose beforeFetch runs on the polling path, incremental add/remove with committed starting
 * offsets, positions to commit, liveness, nudges, and the close hook.
 */
import { describe, expect, it } from 'vitest'
import type { ConsumerCoordinator } from '../../src/consumer/consumer'
import { offsets, openEnv, produce, settle, track, values } from './helpers'

const P0 = { topic: 't', partition: 0 }
const P1 = { topic: 't', partition: 1 }

function recordingCoordinator(work: (() => Promise<void> | void)[] = []) {
  const calls: string[] = []
  const coordinator: ConsumerCoordinator = {
    beforeFetch: async () => {
      calls.push('beforeFetch')
      const next = work.shift()
      if (next !== undefined) await next()
    },
    heartbeat: () => void calls.push('heartbeat'),
    onClose: () => void calls.push('onClose'),
  }
  return { coordinator, calls, work }
}

describe('Consumer > group seam', () => {
  it('beforeFetch runs before records are taken, so an assignment made there is read in the same poll', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    const work: (() => void)[] = []
    const { coordinator, calls } = recordingCoordinator(work)
    const consumer = env.consumer({ groupId: 'g' }, { coordinator })
    work.push(() => consumer.addPartitions([{ ...P0, offset: 1 }]))

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['b'])
    expect(calls).toEqual(['beforeFetch'])
  })

  it('a revoke done in beforeFetch sees the positions of everything delivered, then removes the partition', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a', 'b'])
    await produce(env, 't', 1, ['x'])
    const work: (() => void)[] = []
    const { coordinator } = recordingCoordinator(work)
    const consumer = env.consumer({ groupId: 'g', autoOffsetReset: 'earliest' }, { coordinator })
    consumer.addPartitions([P0, P1])
    await consumer.poll({ timeoutMs: 0 })
    let committed: unknown
    let removed: unknown

    work.push(() => {
      committed = consumer.positions()
      removed = consumer.removePartitions([P0])
    })
    await produce(env, 't', 0, ['c'])
    await produce(env, 't', 1, ['y'])
    const records = await consumer.poll({ timeoutMs: 0 })

    expect(committed).toEqual([
      { ...P0, offset: 2 },
      { ...P1, offset: 1 },
    ])
    expect(removed).toEqual([{ ...P0, offset: 2 }])
    expect(records.map((r) => `${r.partition}@${r.offset}`)).toEqual(['1@1'])
    expect(consumer.assignment()).toEqual([P1])
  })

  it('in the run loop, beforeFetch never runs while a handler is processing a record', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const events: string[] = []
    const coordinator: ConsumerCoordinator = { beforeFetch: () => void events.push('beforeFetch') }
    const consumer = env.consumer({ groupId: 'g', autoOffsetReset: 'earliest', maxPollRecords: 2 }, { coordinator })
    consumer.addPartitions([P0])

    await consumer.run({
      eachMessage: async ({ message }) => {
        events.push(`start ${message.offset}`)
        await settle()
        events.push(`end ${message.offset}`)
        if (message.offset === 2) void consumer.stop()
      },
    })

    expect(events).toEqual(['beforeFetch', 'start 0', 'end 0', 'start 1', 'end 1', 'beforeFetch', 'start 2', 'end 2'])
  })

  it('nudge() makes a waiting poll run beforeFetch again and go on waiting', async () => {
    const env = await openEnv()
    const { coordinator, calls } = recordingCoordinator()
    const consumer = env.consumer({ groupId: 'g', autoOffsetReset: 'earliest' }, { coordinator })
    consumer.addPartitions([P0])
    const poll = track(consumer.poll({ timeoutMs: 10_000 }))
    await settle()
    expect(calls).toEqual(['beforeFetch'])

    consumer.nudge()
    await settle()

    expect(calls).toEqual(['beforeFetch', 'beforeFetch'])
    expect(poll.settled()).toBe(false)
    await produce(env, 't', 0, ['x'])
    await settle()
    expect(values(poll.value()!)).toEqual(['x'])
  })

  it('reports liveness: lastPollMs follows the clock at each poll, pollInProgress while one waits', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const created = consumer.lastPollMs

    env.clock.advance(5000)
    await consumer.poll({ timeoutMs: 0 })
    expect(consumer.lastPollMs).toBe(created + 5000)

    const waiting = track(consumer.poll({ timeoutMs: 3000 }))
    await settle()
    expect(consumer.pollInProgress).toBe(true)
    env.clock.advance(3000)
    await settle()
    expect(waiting.settled()).toBe(true)
    expect(consumer.pollInProgress).toBe(false)
    expect(consumer.lastPollMs).toBe(created + 8000)
  })

  it('in the run loop a slow handler leaves lastPollMs behind (what maxPollIntervalMs measures)', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['slow'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    let release!: () => void
    const run = consumer.run({
      eachMessage: () =>
        new Promise<void>((resolve) => {
          release = resolve
        }),
    })
    await settle()
    const polledAt = consumer.lastPollMs

    env.clock.advance(400_000)
    await settle()

    expect(consumer.pollInProgress).toBe(false)
    expect(env.clock.now() - consumer.lastPollMs).toBe(400_000)
    expect(consumer.lastPollMs).toBe(polledAt)
    release()
    await consumer.stop()
    await run
  })

  it('addPartitions keeps partitions already assigned, with their positions', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.addPartitions([{ ...P0, offset: 1 }])
    expect(offsets(await consumer.poll({ maxRecords: 1, timeoutMs: 0 }))).toEqual([1])

    consumer.addPartitions([
      { ...P0, offset: 0 },
      { ...P1, offset: null },
    ])

    expect(consumer.assignment()).toEqual([P0, P1])
    expect(consumer.position(P0)).toBe(2)
  })

  it('records polled before a partition was removed are not delivered by the iterator afterwards', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['a0', 'a1', 'a2'])
    await produce(env, 't', 1, ['b0', 'b1'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0, P1])
    const seen: string[] = []

    for await (const r of consumer) {
      seen.push(r.value!.toString())
      if (r.offset === 0 && r.partition === 0) consumer.removePartitions([P1])
      if (r.offset === 2) break
    }

    expect(seen).toEqual(['a0', 'a1', 'a2'])
  })

  it('heartbeat() in a run payload and close() reach the coordinator', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a'])
    const { coordinator, calls } = recordingCoordinator()
    const consumer = env.consumer({ groupId: 'g', autoOffsetReset: 'earliest' }, { coordinator })
    consumer.addPartitions([P0])

    await consumer.run({
      eachMessage: async ({ heartbeat }) => {
        await heartbeat()
        void consumer.stop()
      },
    })
    await consumer.close()

    expect(calls).toEqual(['beforeFetch', 'heartbeat', 'onClose'])
  })

  it('the coordinator can still read positions in onClose', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    let atClose: unknown
    const consumer = env.consumer(
      { groupId: 'g', autoOffsetReset: 'earliest' },
      {
        coordinator: {
          beforeFetch: () => undefined,
          onClose: () => {
            atClose = consumer.positions()
          },
        },
      },
    )
    consumer.addPartitions([P0])
    await consumer.poll({ timeoutMs: 0 })

    await consumer.close()

    expect(atClose).toEqual([{ ...P0, offset: 2 }])
  })

  it('an error from beforeFetch fails the poll', async () => {
    const env = await openEnv()
    const failure = new Error('fenced')
    const consumer = env.consumer({ groupId: 'g' }, { coordinator: { beforeFetch: () => Promise.reject(failure) } })
    await expect(consumer.poll({ timeoutMs: 0 })).rejects.toBe(failure)
    expect(consumer.pollInProgress).toBe(false)
  })
})

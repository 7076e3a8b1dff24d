import { describe, expect, it } from 'vitest'
import type { EachBatchPayload } from '../../src/consumer/run-loop'
import { expectCode } from '../engine/helpers'
import { offsets, openEnv, produce, produceMany, settle, track } from './helpers'

const P0 = { topic: 't', partition: 0 }

describe('Consumer > run > eachMessage', () => {
  it('calls the handler for every record in order, including records appended later, until stop()', async () => {
    const env = await openEnv({ t: 2 })
    await produceMany(env, 't', 0, 2, 3)
    await produce(env, 't', 1, ['b'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 4 })
    consumer.assign([P0, { topic: 't', partition: 1 }])
    const seen: string[] = []

    const run = track(consumer.run({ eachMessage: async ({ topic, partition, message }) => void seen.push(`${topic}-${partition}@${message.offset}`) }))
    await settle()
    expect(consumer.state).toBe('running')
    await produce(env, 't', 1, ['late'])
    await settle()
    await consumer.stop()

    expect(run.settled()).toBe(true)
    expect(consumer.state).toBe('ready')
    expect(seen.filter((s) => s.startsWith('t-0'))).toEqual([0, 1, 2, 3, 4, 5].map((o) => `t-0@${o}`))
    expect(seen.filter((s) => s.startsWith('t-1'))).toEqual(['t-1@0', 't-1@1'])
  })

  it('moves the position only after the handler resolves', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const positions: number[] = []

    const run = consumer.run({
      eachMessage: async ({ message }) => {
        positions.push(consumer.position(P0))
        if (message.offset === 1) void consumer.stop()
      },
    })
    await run

    expect(positions).toEqual([0, 1])
    expect(consumer.position(P0)).toBe(2)
  })

  it('a failing handler rejects run(); the failed record and the rest come again on the next run', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const failure = new Error('handler failed')

    await expect(
      consumer.run({
        eachMessage: async ({ message }) => {
          if (message.offset === 1) throw failure
        },
      }),
    ).rejects.toBe(failure)
    expect(consumer.state).toBe('ready')
    expect(consumer.position(P0)).toBe(1)

    const seen: number[] = []
    const again = consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset)
        if (message.offset === 2) void consumer.stop()
      },
    })
    await again
    expect(seen).toEqual([1, 2])
  })

  it('pause() in the payload holds back the rest of that partition until the returned resume is called', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const seen: number[] = []
    let resume: (() => void) | undefined

    const run = consumer.run({
      eachMessage: async ({ message, pause }) => {
        seen.push(message.offset)
        if (message.offset === 0) resume = pause()
        if (message.offset === 2) void consumer.stop()
      },
    })
    await settle()
    expect(seen).toEqual([0])
    expect(consumer.paused()).toEqual([P0])

    resume!()
    await run
    expect(seen).toEqual([0, 1, 2])
  })

  it('stop() while the loop waits for data ends it at once', async () => {
    const env = await openEnv()
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const run = track(consumer.run({ eachMessage: async () => undefined }))
    await settle()
    expect(consumer.pollInProgress).toBe(true)

    await consumer.stop()

    expect(run.settled()).toBe(true)
    expect(consumer.state).toBe('ready')
  })

  it('a second run() while one is active is ERR_INVALID_STATE, and so is poll()', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    consumer.assign([P0])
    const run = consumer.run({ eachMessage: async () => undefined })

    await expectCode(() => consumer.run({ eachMessage: async () => undefined }), 'ERR_INVALID_STATE')
    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_INVALID_STATE')
    await consumer.stop()
    await run
  })
})

describe('Consumer > run > eachBatch', () => {
  it('gives one batch per partition per poll, with KafkaJS batch helpers, and auto-resolves it', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    await produce(env, 't', 0, ['d'], { noFlush: true })
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const batches: { offsets: number[]; first: number | null; last: number; lag: number; lagLow: number; hw: number }[] = []

    const run = consumer.run({
      eachBatch: async ({ batch }) => {
        batches.push({
          offsets: offsets(batch.messages),
          first: batch.firstOffset(),
          last: batch.lastOffset(),
          lag: batch.offsetLag(),
          lagLow: batch.offsetLagLow(),
          hw: batch.highWatermark,
        })
        void consumer.stop()
      },
    })
    await run

    expect(batches).toEqual([{ offsets: [0, 1, 2], first: 0, last: 2, lag: 0, lagLow: 2, hw: 3 }])
    expect(consumer.position(P0)).toBe(3)
  })

  it('without auto-resolve, records after the last resolveOffset are fetched again', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c', 'd'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const calls: number[][] = []

    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        calls.push(offsets(batch.messages))
        if (calls.length === 1) resolveOffset(1)
        else {
          resolveOffset(batch.lastOffset())
          void consumer.stop()
        }
      },
    })

    expect(calls).toEqual([
      [0, 1, 2, 3],
      [2, 3],
    ])
    expect(consumer.position(P0)).toBe(4)
  })

  it('a failing eachBatch rejects run() and keeps what was resolved', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])

    await expect(
      consumer.run({
        eachBatch: async ({ resolveOffset }) => {
          resolveOffset(0)
          throw new Error('boom')
        },
      }),
    ).rejects.toThrow('boom')

    expect(consumer.position(P0)).toBe(1)
  })

  it('isStale() turns true after a seek, and the stale batch does not move the position', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])
    const stale: boolean[] = []

    await consumer.run({
      eachBatch: async ({ isStale }: EachBatchPayload) => {
        stale.push(isStale())
        consumer.seek(P0, 1)
        stale.push(isStale())
        void consumer.stop()
      },
    })

    expect(stale).toEqual([false, true])
    expect(consumer.position(P0)).toBe(1)
  })

  it('resolveOffset outside the batch is ERR_INVALID_ARGUMENT', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([P0])

    await expectCode(
      () =>
        consumer.run({
          eachBatch: async ({ resolveOffset }) => {
            resolveOffset(7)
          },
        }),
      'ERR_INVALID_ARGUMENT',
    )
  })
})

describe('Consumer > run > options', () => {
  it('needs exactly one of eachMessage and eachBatch, and refuses unknown options', async () => {
    const env = await openEnv()
    const consumer = env.consumer()
    await expectCode(() => consumer.run({}), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => consumer.run({ eachMessage: async () => undefined, eachBatch: async () => undefined }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => consumer.run({ eachMessage: async () => undefined, autoCommit: true } as never), 'ERR_INVALID_ARGUMENT')
    expect(consumer.state).toBe('ready')
  })
})

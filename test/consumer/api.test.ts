/** The standalone consumer through the public entry point: `kl.consumer(options)`. */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Consumer, encodeRecordBatch, Kafkalite, ManualClock, type ConsumerRecord } from '../../src/index'
import { expectCode, expectSyncCode } from '../engine/helpers'
import { settle, track } from './helpers'

async function open(): Promise<Kafkalite> {
  return Kafkalite.open({ inMemory: true, clock: new ManualClock() })
}

describe('Kafkalite > consumer', () => {
  it('reads what Partition.append wrote, and a waiting poll sees the next append', async () => {
    const kl = await open()
    const partition = (await kl.createTopic('events', { partitions: 2 })).partition(1)
    partition.append(encodeRecordBatch({ records: [{ key: null, value: Buffer.from('first'), timestamp: 1 }] }))
    await partition.flush()
    const consumer = kl.consumer({ autoOffsetReset: 'earliest' })
    expect(consumer).toBeInstanceOf(Consumer)
    consumer.assign([{ topic: 'events', partition: 1 }])

    expect((await consumer.poll({ timeoutMs: 0 })).map((r) => r.value!.toString())).toEqual(['first'])
    const waiting = track(consumer.poll({ timeoutMs: 60_000 }))
    await settle()
    partition.append(encodeRecordBatch({ records: [{ key: null, value: Buffer.from('second'), timestamp: 2 }] }))
    await partition.flush()
    await settle()
    expect(waiting.value()!.map((r) => r.value!.toString())).toEqual(['second'])
    await kl.close()
  })

  it('refuses a groupId (group members come from a consumer group) and bad config keys', async () => {
    const kl = await open()
    expectSyncCode(() => kl.consumer({ groupId: 'g' }), 'ERR_INVALID_CONFIG')
    expectSyncCode(() => kl.consumer({ maxPollRecrods: 5 } as never), 'ERR_INVALID_CONFIG')
    await kl.close()
  })

  it('closes with the instance; kl.consumer after close is ERR_CLOSED', async () => {
    const kl = await open()
    const consumer = kl.consumer()
    await kl.close()
    expect(consumer.state).toBe('closed')
    await expectCode(() => consumer.poll(), 'ERR_CLOSED')
    expectSyncCode(() => kl.consumer(), 'ERR_CLOSED')
  })

  it('types: poll resolves to ConsumerRecord[]; the consumer is async-iterable', () => {
    expectTypeOf<Consumer['poll']>().returns.resolves.toEqualTypeOf<ConsumerRecord[]>()
    expectTypeOf<Consumer>().toMatchTypeOf<AsyncIterable<ConsumerRecord>>()
    expectTypeOf<ConsumerRecord>().toEqualTypeOf<{
      topic: string
      partition: number
      offset: number
      timestamp: number
      key: Buffer | null
      value: Buffer | null
      headers: { key: string; value: Buffer | null }[]
    }>()
  })
})

import { describe, expect, it } from 'vitest'
import type { OffsetResetEvent } from '../../src/consumer/types'
import { expectCode } from '../engine/helpers'
import { offsets, openEnv, produce, produceMany, values } from './helpers'

const TP = { topic: 't', partition: 0 }

describe('Consumer > autoOffsetReset > partition without a position', () => {
  it('earliest starts at the log start offset', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    env.engine.log('t', 0).advanceLogStartOffset(1)
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([TP])

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['b', 'c'])
  })

  it('latest starts at the high watermark: history is skipped, new records arrive', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['old1', 'old2'])
    const consumer = env.consumer({ autoOffsetReset: 'latest' })
    consumer.assign([TP])

    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([])
    expect(consumer.position(TP)).toBe(2)
    await produce(env, 't', 0, ['new'])
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['new'])
  })

  it('none fails the poll and position() with ERR_OFFSET_OUT_OF_RANGE naming the partition', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a'])
    const consumer = env.consumer({ autoOffsetReset: 'none' })
    consumer.assign([TP])

    const pollError = await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')
    expect(pollError.context).toMatchObject({ topic: 't', partition: 0, reason: 'noOffset', logStartOffset: 0, logEndOffset: 1 })
    await expectCode(() => consumer.position(TP), 'ERR_OFFSET_OUT_OF_RANGE')

    consumer.seek(TP, 0)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a'])
  })

  it('a committed starting offset from the group layer is used as the position', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b', 'c'])
    const consumer = env.consumer({ autoOffsetReset: 'none' })
    consumer.addPartitions([{ ...TP, offset: 2 }])

    expect(consumer.position(TP)).toBe(2)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['c'])
  })
})

describe('Consumer > autoOffsetReset > position below the log start offset', () => {
  async function lagging(policy: 'earliest' | 'latest' | 'none', committed: boolean) {
    const env = await openEnv()
    await produceMany(env, 't', 0, 4, 5) // offsets 0..19
    const consumer = env.consumer({ autoOffsetReset: policy })
    if (committed) consumer.addPartitions([{ ...TP, offset: 3 }])
    else {
      consumer.assign([TP])
      consumer.seek(TP, 0)
      expect(offsets(await consumer.poll({ maxRecords: 3, timeoutMs: 0 }))).toEqual([0, 1, 2])
    }
    // Retention deletes offsets 0..11 while the consumer stands at 3.
    env.engine.log('t', 0).advanceLogStartOffset(12)
    const events: OffsetResetEvent[] = []
    consumer.on('offsetReset', (e) => events.push(e))
    return { env, consumer, events }
  }

  it('none: ERR_OFFSET_OUT_OF_RANGE with topic, partition, committed offset and log start offset; nothing changes', async () => {
    const { consumer, events } = await lagging('none', true)

    const error = await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')

    expect(error.context).toMatchObject({ topic: 't', partition: 0, committedOffset: 3, position: 3, logStartOffset: 12, reason: 'belowLogStart' })
    expect(error.message).toContain('Committed offset 3 of t-0')
    expect(error.message).toContain('log start offset 12')
    expect(consumer.position(TP)).toBe(3)
    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')
    expect(events).toEqual([])
    expect(consumer.offsetResetTotals()).toEqual([])
  })

  it('none: a consumed position that falls behind is reported as a position, not a committed offset', async () => {
    const { consumer } = await lagging('none', false)

    const error = await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')

    expect(error.context).toMatchObject({ position: 3, logStartOffset: 12 })
    expect(error.context.committedOffset).toBeUndefined()
    expect(error.message).toContain('Position 3 of t-0')
  })

  it('earliest: resets to the log start, emits offsetReset with the skipped count, and keeps the total', async () => {
    const { consumer, events } = await lagging('earliest', true)

    const records = await consumer.poll({ timeoutMs: 0 })

    expect(records[0]!.offset).toBe(12)
    expect(events).toEqual([
      { topic: 't', partition: 0, from: 3, to: 12, recordsSkipped: 9, fromCommitted: true, policy: 'earliest', reason: 'belowLogStart', logStartOffset: 12, logEndOffset: 20 },
    ])
    expect(consumer.offsetResetTotals()).toEqual([{ topic: 't', partition: 0, resets: 1, recordsSkipped: 9 }])
  })

  it('latest: resets to the high watermark and counts everything in between as skipped', async () => {
    const { consumer, events } = await lagging('latest', false)

    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([])

    expect(consumer.position(TP)).toBe(20)
    expect(events.map((e) => [e.from, e.to, e.recordsSkipped, e.fromCommitted])).toEqual([[3, 20, 17, false]])
  })

  it('totals survive the partition being revoked', async () => {
    const { consumer } = await lagging('earliest', true)
    await consumer.poll({ timeoutMs: 0 })

    consumer.removePartitions([TP])

    expect(consumer.offsetResetTotals()).toEqual([{ topic: 't', partition: 0, resets: 1, recordsSkipped: 9 }])
  })
})

describe('Consumer > autoOffsetReset > position past the log end', () => {
  it('a seek past the end is reset by policy when a poll reaches it (no records skipped)', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a', 'b'])
    const consumer = env.consumer({ autoOffsetReset: 'earliest' })
    consumer.assign([TP])
    const events: OffsetResetEvent[] = []
    consumer.on('offsetReset', (e) => events.push(e))
    consumer.seek(TP, 100)

    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['a', 'b'])
    expect(events.map((e) => [e.reason, e.from, e.to, e.recordsSkipped])).toEqual([['aboveLogEnd', 100, 0, 0]])
  })

  it('with none, a seek past the end fails the poll', async () => {
    const env = await openEnv()
    await produce(env, 't', 0, ['a'])
    const consumer = env.consumer({ autoOffsetReset: 'none' })
    consumer.assign([TP])
    consumer.seek(TP, 5)

    const error = await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')
    expect(error.context).toMatchObject({ reason: 'aboveLogEnd', position: 5, logEndOffset: 1 })
  })

  it('a reset on one partition does not cost the records another partition already gave in the same poll', async () => {
    const env = await openEnv({ t: 2 })
    await produce(env, 't', 0, ['p0'])
    await produce(env, 't', 1, ['p1a', 'p1b'])
    const consumer = env.consumer({ autoOffsetReset: 'none' })
    consumer.addPartitions([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1, offset: 0 },
    ])
    env.engine.log('t', 1).advanceLogStartOffset(1)

    // Partition 0 comes first and gives its record; partition 1 fails on the next poll.
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['p0'])
    await expectCode(() => consumer.poll({ timeoutMs: 0 }), 'ERR_OFFSET_OUT_OF_RANGE')
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(1)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Kafkalite, type KafkaliteOptions } from '../../src/api/kafkalite'
import type { Partition } from '../../src/api/partition'
import type { Topic } from '../../src/api/topic'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { batchOf, expectCode, expectSyncCode, T0 } from '../engine/helpers'

const tmpDirs: string[] = []
afterEach(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

interface Mode {
  name: string
  options: () => KafkaliteOptions
}

/** The same suite runs on disk and in memory: in-memory mode must give the same semantics. */
const MODES: Mode[] = [
  { name: 'inMemory', options: () => ({ inMemory: true }) },
  {
    name: 'dir',
    options: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kafkalite-api-'))
      tmpDirs.push(dir)
      return { dir }
    },
  },
]

const text = (b: Buffer | null) => b?.toString('utf8') ?? null

describe.each(MODES)('Kafkalite ($name)', ({ options }) => {
  let kl: Kafkalite
  afterEach(async () => {
    await kl?.close()
  })

  it('createTopic returns the topic; topic(name) finds it; partitions append and read back', async () => {
    kl = await Kafkalite.open(options())
    const orders = await kl.createTopic('orders', { partitions: 2 })
    expect(orders.name).toBe('orders')
    expect(orders.partitionCount).toBe(2)
    expect(kl.topic('orders').topicId).toBe(orders.topicId)

    const p = orders.partition(1)
    expect(p.append(batchOf(['a', 'b', 'c']))).toMatchObject({ baseOffset: 0, lastOffset: 2, recordCount: 3 })
    expect(p.append(batchOf(['d', 'e']))).toMatchObject({ baseOffset: 3, lastOffset: 4 })
    await p.flush()
    expect(p.logEndOffset).toBe(5)
    expect(p.highWatermark).toBe(5)
    expect(p.logStartOffset).toBe(0)

    const all = p.readRecords(0)
    expect(all.records.map((r) => [r.offset, text(r.value)])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
      [4, 'e'],
    ])
    expect(all.nextOffset).toBe(5)
    expect(orders.partition(0).readRecords(0)).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0 })
  })

  it('readRecords starts inside a batch by dropping the records before the offset, and maxBytes bounds it by whole batches', async () => {
    kl = await Kafkalite.open(options())
    const p = (await kl.createTopic('t')).partition(0)
    const first = batchOf(['a', 'b', 'c'])
    p.append(first)
    p.append(batchOf(['d', 'e']))
    await p.flush()
    const fromMiddle = p.readRecords(1)
    expect(fromMiddle.records.map((r) => r.offset)).toEqual([1, 2, 3, 4])
    const oneBatch = p.readRecords(1, { maxBytes: 1 })
    expect(oneBatch.records.map((r) => r.offset)).toEqual([1, 2])
    expect(oneBatch.nextOffset).toBe(3)
    const raw = p.read(0, first.length)
    expect(raw.records.length).toBe(first.length)
    expect(raw).toMatchObject({ highWatermark: 5, logStartOffset: 0, logEndOffset: 5 })
  })

  it('read into a caller buffer returns a view of it, which the next read into it overwrites', async () => {
    kl = await Kafkalite.open(options())
    const t = await kl.createTopic('t', { partitions: 2, durability: 'none' })
    const [p0, p1] = [t.partition(0), t.partition(1)]
    p0.append(batchOf(['a', 'b']))
    p1.append(batchOf(['c']))
    const buffer = Buffer.alloc(1 << 16)
    const one = p0.read(0, 1000, { buffer })
    expect(one.records.buffer).toBe(buffer.buffer)
    expect(one.records.equals(p0.read(0, 1000).records)).toBe(true)
    expect(one).toMatchObject({ highWatermark: 2, logStartOffset: 0, logEndOffset: 2 })
    const two = p1.read(0, 1000, { buffer })
    expect(two.records.buffer).toBe(buffer.buffer)
    expect(two.records.equals(p1.read(0, 1000).records)).toBe(true)
    expect(one.records.subarray(0, two.records.length).equals(two.records)).toBe(true)
    await expectCode(() => p0.read(0, 100, { buffer: new Uint8Array(10) as never }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p0.read(0, 100, { buffer: 'x' as never }), 'ERR_INVALID_ARGUMENT')
  })

  it('with durability fsync, readers see an append once it is fsynced; with none, at once', async () => {
    kl = await Kafkalite.open(options())
    const durable = (await kl.createTopic('durable')).partition(0)
    durable.append(batchOf(['x']))
    expect(durable.logEndOffset).toBe(1)
    expect(durable.highWatermark).toBe(0)
    expect(durable.readRecords(0).records).toEqual([])
    await durable.flush()
    expect(durable.readRecords(0).records).toHaveLength(1)

    const fast = (await kl.createTopic('fast', { durability: 'none' })).partition(0)
    fast.append(batchOf(['y']))
    expect(fast.highWatermark).toBe(1)
    expect(fast.readRecords(0).records).toHaveLength(1)
  })

  it('offsetForTimestamp finds the first record at or after a time; truncateTo removes the tail', async () => {
    kl = await Kafkalite.open(options())
    const p = (await kl.createTopic('t')).partition(0)
    p.append(batchOf(['a', 'b'], T0)) // timestamps T0, T0+1
    p.append(batchOf(['c', 'd'], T0 + 100)) // T0+100, T0+101
    await p.flush()
    expect(p.offsetForTimestamp(T0 + 1)).toEqual({ offset: 1, timestamp: T0 + 1 })
    expect(p.offsetForTimestamp(T0 + 50)).toEqual({ offset: 2, timestamp: T0 + 100 })
    expect(p.offsetForTimestamp(T0 + 1000)).toBeUndefined()
    p.truncateTo(2)
    expect(p.logEndOffset).toBe(2)
    expect(p.append(batchOf(['e']))).toMatchObject({ baseOffset: 2 })
  })

  it('a topic with LogAppendTime stamps records with the injected clock', async () => {
    const clock = new ManualClock(T0 + 5_000)
    kl = await Kafkalite.open({ ...options(), clock })
    const p = (await kl.createTopic('t', { messageTimestampType: 'LogAppendTime', durability: 'none' })).partition(0)
    p.append(batchOf(['a', 'b'], 1))
    expect(p.readRecords(0).records.map((r) => r.timestamp)).toEqual([T0 + 5_000, T0 + 5_000])
  })

  it('bad input to a partition is a typed error and leaves the log unchanged', async () => {
    kl = await Kafkalite.open(options())
    const p = (await kl.createTopic('t', { maxMessageBytes: 200 })).partition(0)
    p.append(batchOf(['ok']))
    await p.flush()
    const corrupt = batchOf(['bad'])
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1)
    await expectCode(() => p.append('not a buffer' as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p.append(Buffer.alloc(0)), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p.append(corrupt), 'ERR_CORRUPT_RECORD')
    await expectCode(() => p.append(Buffer.concat([batchOf(['fine']), corrupt])), 'ERR_CORRUPT_RECORD')
    await expectCode(() => p.append(batchOf(['x'.repeat(300)])), 'ERR_RECORD_TOO_LARGE')
    await expectCode(() => p.read(-1), 'ERR_OFFSET_OUT_OF_RANGE')
    await expectCode(() => p.read(2), 'ERR_OFFSET_OUT_OF_RANGE')
    await expectCode(() => p.read(0, 0), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p.readRecords(0, { maxBytes: -5 }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p.offsetForTimestamp('yesterday' as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => p.truncateTo(-1), 'ERR_OFFSET_OUT_OF_RANGE')
    // An offset that is not an integer is a wrong argument, not an offset out of range ("1.5 is below the log start offset 0").
    for (const offset of ['0', 0.5, Number.NaN, Infinity, null]) {
      await expectCode(() => p.read(offset as never), 'ERR_INVALID_ARGUMENT')
      await expectCode(() => p.readRecords(offset as never), 'ERR_INVALID_ARGUMENT')
      await expectCode(() => p.truncateTo(offset as never), 'ERR_INVALID_ARGUMENT')
    }
    expect(p.logEndOffset).toBe(1)
    expect(p.readRecords(0).records.map((r) => text(r.value))).toEqual(['ok'])
  })

  it('unknown topics and partitions are ERR_UNKNOWN_TOPIC_OR_PARTITION; handles of a deleted topic stop working', async () => {
    kl = await Kafkalite.open(options())
    await expectCode(() => kl.topic('nope'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    const t = await kl.createTopic('t', { partitions: 2 })
    await expectCode(() => t.partition(2), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => t.partition(-1), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    const p = t.partition(0)
    await kl.deleteTopic('t')
    await expectCode(() => t.partitionCount, 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => p.append(batchOf(['x'])), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    expect(kl.listTopics()).toEqual([])
  })

  it('a Topic handle follows createPartitions and alterTopicConfig', async () => {
    kl = await Kafkalite.open(options())
    const t = await kl.createTopic('t')
    await kl.createPartitions('t', 3)
    expect(t.partitionCount).toBe(3)
    expect(t.partitions().map((p) => p.partition)).toEqual([0, 1, 2])
    await kl.alterTopicConfig('t', { retentionMs: 99 })
    expect(t.config.retentionMs).toBe(99)
    expect(kl.describeTopic('t').config.retentionMs).toBe(99)
    expect(t.describe().partitions).toHaveLength(3)
  })
})

describe('Kafkalite close', () => {
  it('close is idempotent and every method of Kafkalite, Topic and Partition then throws or rejects ERR_CLOSED', async () => {
    const kl = await Kafkalite.open({ inMemory: true })
    const topic: Topic = await kl.createTopic('t')
    const partition: Partition = topic.partition(0)
    const first = kl.close()
    expect(kl.close()).toBe(first)
    await first
    expect(kl.closed).toBe(true)
    const calls: [string, () => unknown][] = [
      ['createTopic', () => kl.createTopic('u')],
      ['deleteTopic', () => kl.deleteTopic('t')],
      ['createPartitions', () => kl.createPartitions('t', 2)],
      ['alterTopicConfig', () => kl.alterTopicConfig('t', { retentionMs: 1 })],
      ['listTopics', () => kl.listTopics()],
      ['describeTopic', () => kl.describeTopic('t')],
      ['topic', () => kl.topic('t')],
      ['Topic.partitionCount', () => topic.partitionCount],
      ['Topic.config', () => topic.config],
      ['Topic.topicId', () => topic.topicId],
      ['Topic.partition', () => topic.partition(0)],
      ['Topic.partitions', () => topic.partitions()],
      ['Topic.describe', () => topic.describe()],
      ['Partition.append', () => partition.append(batchOf(['x']))],
      ['Partition.read', () => partition.read(0)],
      ['Partition.readRecords', () => partition.readRecords(0)],
      ['Partition.logStartOffset', () => partition.logStartOffset],
      ['Partition.logEndOffset', () => partition.logEndOffset],
      ['Partition.highWatermark', () => partition.highWatermark],
      ['Partition.offsetForTimestamp', () => partition.offsetForTimestamp(0)],
      ['Partition.truncateTo', () => partition.truncateTo(0)],
      ['Partition.flush', () => partition.flush()],
    ]
    for (const [name, call] of calls) {
      try {
        await expectCode(call, 'ERR_CLOSED')
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`)
      }
    }
  })

  it('after close, synchronous methods throw synchronously and asynchronous ones reject (never throw)', async () => {
    const kl = await Kafkalite.open({ inMemory: true })
    await kl.createTopic('t')
    await kl.close()
    expectSyncCode(() => kl.listTopics(), 'ERR_CLOSED')
    expectSyncCode(() => kl.topic('t'), 'ERR_CLOSED')
    for (const call of [() => kl.createTopic('u'), () => kl.deleteTopic('t'), () => kl.createPartitions('t', 2), () => kl.alterTopicConfig('t', {})]) {
      let result: unknown
      expect(() => (result = call())).not.toThrow()
      await expect(result).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    }
  })

  it('data written before close is there after reopen, and the reopen was clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-api-'))
    tmpDirs.push(dir)
    const a = await Kafkalite.open({ dir })
    const p = (await a.createTopic('t', { partitions: 2 })).partition(1)
    p.append(encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v'), timestamp: T0, headers: [{ key: 'h', value: Buffer.from('1') }] }] }))
    await a.close()
    const b = await Kafkalite.open({ dir })
    expect(b.openReport.cleanShutdown).toBe(true)
    const [record] = b.topic('t').partition(1).readRecords(0).records
    expect(record).toMatchObject({ offset: 0, key: null, timestamp: T0 })
    expect(text(record!.value)).toBe('v')
    expect(record!.headers.map((h) => [h.key, text(h.value)])).toEqual([['h', '1']])
    await b.close()
  })
})

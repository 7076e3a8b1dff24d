/**
 * Producer.send and sendBatch: results per record, timestamps, what is written (keys, values,
 * tombstones, headers, compression), batching by lingerMs and batchSize, flush and close, and bad input
 * refused with a typed error leaving every log and the buffer untouched.
 */
import { describe, expect, it } from 'vitest'
import { RECORD_BATCH_OVERHEAD, readBatchHeader } from '../../src/codec/record-batch'
import type { ErrorCode } from '../../src/errors/index'
import { recordFieldsSize, recordSizeInBatch } from '../../src/codec/batch-builder'
import { expectCode } from '../engine/helpers'
import { batchCount, FakeHost, logRecords, settle, T0, values } from './helpers'

function firstBatchHeader(host: FakeHost, topic: string, partition: number) {
  return readBatchHeader(host.realLog(topic, partition).read(0, 1 << 20, { uncommitted: true }).records, 0)
}

describe('Producer > send > results and records', () => {
  it('resolves one metadata for one record and an array, in order, for an array', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    const producer = host.producer({ lingerMs: 0 })
    expect(await producer.send('t', { value: 'a', partition: 1 })).toEqual({ topic: 't', partition: 1, offset: 0, timestamp: T0 })
    const results = await producer.send('t', [
      { value: 'b', partition: 1 },
      { value: 'c', partition: 0 },
      { value: 'd', partition: 1, timestamp: 42 },
    ])
    expect(results).toEqual([
      { topic: 't', partition: 1, offset: 1, timestamp: T0 },
      { topic: 't', partition: 0, offset: 0, timestamp: T0 },
      { topic: 't', partition: 1, offset: 2, timestamp: 42 },
    ])
    expect(await producer.send('t', [])).toEqual([])
    await producer.close()
  })

  it('sendBatch sends to several topics in one call', async () => {
    const host = await FakeHost.create({ a: { partitions: 1 }, b: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0 })
    const results = await producer.sendBatch([
      { topic: 'a', messages: [{ value: '1' }, { value: '2' }] },
      { topic: 'b', messages: [{ value: '3' }] },
    ])
    expect(results.map((r) => `${r.topic}-${r.partition}@${r.offset}`)).toEqual(['a-0@0', 'a-0@1', 'b-0@0'])
    expect(values(host.realLog('b', 0))).toEqual(['3'])
    await producer.close()
  })

  it('CreateTime is the record timestamp or the clock at send; a LogAppendTime topic returns the log time', async () => {
    const host = await FakeHost.create({ c: { partitions: 1 }, l: { partitions: 1, config: { messageTimestampType: 'LogAppendTime' } } })
    const producer = host.producer({ lingerMs: 100 })
    const create = producer.send('c', [{ value: 'x' }, { value: 'y', timestamp: 5 }])
    const append = producer.send('l', { value: 'z', timestamp: 5 })
    host.clock.advance(100)
    expect((await create).map((r) => r.timestamp)).toEqual([T0, 5])
    expect((await append).timestamp).toBe(T0 + 100)
    expect(logRecords(host.realLog('c', 0)).map((r) => r.timestamp)).toEqual([T0, 5])
    expect(logRecords(host.realLog('l', 0)).map((r) => r.timestamp)).toEqual([T0 + 100])
    await producer.close()
  })

  it('writes keys, values, tombstones and headers as given (Buffer, Uint8Array or UTF-8 string)', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0 })
    await producer.send('t', [
      { key: Buffer.from([1, 2]), value: new Uint8Array([3]), headers: { a: 'x', b: [Buffer.from('y'), null] } },
      { key: 'ключ', value: null, headers: [{ key: 'h', value: 'v' }, { key: 'h', value: 'w' }] },
      { value: '' },
    ])
    const [r0, r1, r2] = logRecords(host.realLog('t', 0))
    expect(r0!.key).toEqual(Buffer.from([1, 2]))
    expect(r0!.value).toEqual(Buffer.from([3]))
    expect(r0!.headers).toEqual([
      { key: 'a', value: Buffer.from('x') },
      { key: 'b', value: Buffer.from('y') },
      { key: 'b', value: null },
    ])
    expect(r1!.key!.toString()).toBe('ключ')
    expect(r1!.value).toBeNull()
    expect(r1!.headers.map((h) => `${h.key}=${h.value}`)).toEqual(['h=v', 'h=w'])
    expect(r2!.key).toBeNull()
    expect(r2!.value).toEqual(Buffer.alloc(0))
    await producer.close()
  })

  it('copies buffers at send: changing them afterwards does not change what is written', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 10 })
    const value = Buffer.from('before')
    const sent = producer.send('t', { value })
    value.write('after!')
    host.clock.advance(10)
    await sent
    expect(values(host.realLog('t', 0))).toEqual(['before'])
    await producer.close()
  })

  it('copies buffers at send also when the call waits for buffer memory: changes made meanwhile are not written', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const held: (() => void)[] = []
    host.wrap = (log) => ({
      append: (data, options) => log.append(data, options),
      flushUpTo: (offset) => new Promise<void>((resolve, reject) => held.push(() => void log.flushUpTo(offset).then(resolve, reject))),
    })
    const producer = host.producer({ bufferMemory: 400, lingerMs: 0 })
    const first = producer.send('t', { value: 'x'.repeat(350) })
    const key = Buffer.from('key')
    const value = new Uint8Array(Buffer.from('before'))
    const header = Buffer.from('h-before')
    let done = false
    const waiting = producer.send('t', [{ key, value, headers: { h: header } }]).then(() => (done = true))
    await settle()
    expect(host.realLog('t', 0).logEndOffset).toBe(1) // the second call waits for the first one's memory
    key.write('KEY')
    value.set(Buffer.from('after!'))
    header.write('h-after!')
    for (let round = 0; !done && round < 100; round++) {
      for (const release of held.splice(0)) release()
      await settle()
    }
    await Promise.all([first, waiting])
    const [, r] = logRecords(host.realLog('t', 0))
    expect([r!.key!.toString(), r!.value!.toString(), r!.headers[0]!.value!.toString()]).toEqual(['key', 'before', 'h-before'])
    await producer.close()
  })

  it('calls sharing a lingering batch each get their own records\' offsets and timestamps, in order', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    const producer = host.producer({ lingerMs: 50 })
    const calls = Array.from({ length: 6 }, (_, c) =>
      producer.send('t', Array.from({ length: 5 }, (_, i) => ({ value: `${c}.${i}`, partition: (c + i) % 2, timestamp: T0 + 10 * c + i }))),
    )
    host.clock.advance(50)
    const results = await Promise.all(calls)
    expect(batchCount(host.realLog('t', 0))).toBe(1)
    const written = [0, 1].map((p) => logRecords(host.realLog('t', p)))
    for (const [c, call] of results.entries()) {
      for (const [i, r] of call.entries()) {
        expect(r.partition).toBe((c + i) % 2)
        expect(r.timestamp).toBe(T0 + 10 * c + i)
        const record = written[r.partition]!.find((w) => w.offset === r.offset)!
        expect([record.value!.toString(), record.timestamp]).toEqual([`${c}.${i}`, r.timestamp])
      }
    }
    expect(written.map((w) => w.length)).toEqual([15, 15])
    await producer.close()
  })
})

describe('Producer > send > batching', () => {
  it('lingerMs: nothing is written before the clock advances lingerMs, then one batch', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ acks: 1, lingerMs: 100 })
    let done = false
    const sends = [producer.send('t', { value: 'a' }), producer.send('t', { value: 'b' })]
    void Promise.all(sends).then(() => (done = true))
    host.clock.advance(99)
    await Promise.resolve()
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    expect(done).toBe(false)
    host.clock.advance(1)
    expect((await Promise.all(sends)).map((r) => r.offset)).toEqual([0, 1])
    expect(batchCount(host.realLog('t', 0))).toBe(1)
    await producer.close()
  })

  it('a batch that reaches batchSize is written at once, without waiting for lingerMs', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const record = { value: 'x'.repeat(100) }
    const recordBytes = recordSizeInBatch(recordFieldsSize(null, record.value, undefined), 1, 0)
    const producer = host.producer({ acks: 1, lingerMs: 60_000, batchSize: RECORD_BATCH_OVERHEAD + 2 * recordBytes })
    const results = await Promise.all([producer.send('t', record), producer.send('t', record)])
    expect(results.map((r) => r.offset)).toEqual([0, 1])
    expect(batchCount(host.realLog('t', 0))).toBe(1)
    await producer.close()
  })

  it('a batch the next record does not fit in is written at once; the record starts the next batch', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ acks: 1, lingerMs: 60_000, batchSize: 500 })
    const sends = Array.from({ length: 5 }, () => producer.send('t', { value: 'x'.repeat(100) }))
    // 61 + 4 × 109 bytes fit in 500; the fifth record does not.
    expect((await Promise.all(sends.slice(0, 4))).map((r) => r.offset)).toEqual([0, 1, 2, 3])
    expect(host.realLog('t', 0).logEndOffset).toBe(4)
    await Promise.resolve()
    expect(host.realLog('t', 0).logEndOffset).toBe(4)
    host.clock.advance(60_000)
    expect((await sends[4]!).offset).toBe(4)
    expect(batchCount(host.realLog('t', 0))).toBe(2)
    await producer.close()
  })

  it('lingerMs 0: one send call makes one batch per partition', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    const producer = host.producer({ lingerMs: 0 })
    await producer.send('t', [0, 1, 0, 1, 0].map((partition) => ({ value: 'v', partition })))
    expect([batchCount(host.realLog('t', 0)), batchCount(host.realLog('t', 1))]).toEqual([1, 1])
    expect(host.realLog('t', 0).logEndOffset).toBe(3)
    await producer.close()
  })

  it('flush appends lingering batches at once and resolves when they are done', async () => {
    const host = await FakeHost.create({ t: { partitions: 3 } })
    const producer = host.producer({ lingerMs: 60_000 })
    const sends = [0, 1, 2].map((partition) => producer.send('t', { value: `p${partition}`, partition }))
    await producer.flush()
    expect([0, 1, 2].map((p) => host.realLog('t', p).recoveryPoint)).toEqual([1, 1, 1])
    expect((await Promise.all(sends)).map((r) => r.offset)).toEqual([0, 0, 0])
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })

  it('compresses with the producer codec, or with the topic codec when the topic names one', async () => {
    const host = await FakeHost.create({
      p: { partitions: 1 },
      z: { partitions: 1, config: { compressionType: 'lz4' } },
      u: { partitions: 1, config: { compressionType: 'uncompressed' } },
    })
    const producer = host.producer({ lingerMs: 0, compressionType: 'gzip' })
    const records = Array.from({ length: 20 }, (_, i) => ({ value: `compressible value ${i % 3}` }))
    for (const topic of ['p', 'z', 'u']) await producer.send(topic, records)
    expect(['p', 'z', 'u'].map((t) => firstBatchHeader(host, t, 0).compression)).toEqual(['gzip', 'lz4', 'none'])
    expect(values(host.realLog('z', 0))).toEqual(records.map((r) => r.value))
    await producer.close()
  })

  it('a batch that comes out over the topic limit when encoded is split; every record is written', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 100 })
    const sent = producer.send('t', Array.from({ length: 10 }, (_, i) => ({ value: `${i}`.repeat(100) })))
    // The topic's maxMessageBytes drops while the batch lingers (alterTopicConfig at run time).
    host.configs.set('t', { ...host.configs.get('t')!, maxMessageBytes: 400 })
    await producer.flush() // waits for the halves of the batch it found lingering
    expect(host.realLog('t', 0).logEndOffset).toBe(10)
    expect((await sent).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const log = host.realLog('t', 0)
    expect(values(log)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`.repeat(100)))
    expect(batchCount(log)).toBeGreaterThan(1)
    let pos = 0
    const bytes = log.read(0, 1 << 20).records
    while (pos < bytes.length) {
      expect(readBatchHeader(bytes, pos).sizeInBytes).toBeLessThanOrEqual(400)
      pos += readBatchHeader(bytes, pos).sizeInBytes
    }
    await producer.close()
  })
  it('splitting a batch shared by several calls keeps each record\'s headers, timestamp, offset and buffer reservation', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 100 })
    const record = (c: number, i: number) => ({ key: `k${c}.${i}`, value: `${c}.${i}`.repeat(40), headers: { n: `${i}` }, timestamp: T0 + 7 * i - c })
    const calls = [0, 1, 2].map((c) => producer.send('t', Array.from({ length: 5 }, (_, i) => record(c, i))))
    host.configs.set('t', { ...host.configs.get('t')!, maxMessageBytes: 700 })
    await producer.flush()
    const results = await Promise.all(calls)
    expect(results.flat().map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => i))
    expect(results.flat().map((r) => r.timestamp)).toEqual([0, 1, 2].flatMap((c) => [0, 1, 2, 3, 4].map((i) => T0 + 7 * i - c)))
    const written = logRecords(host.realLog('t', 0))
    expect(written.map((r) => [r.key!.toString(), r.value!.toString(), r.headers[0]!.value!.toString(), r.timestamp])).toEqual(
      [0, 1, 2].flatMap((c) => [0, 1, 2, 3, 4].map((i) => [`k${c}.${i}`, `${c}.${i}`.repeat(40), `${i}`, T0 + 7 * i - c])),
    )
    expect(batchCount(host.realLog('t', 0))).toBeGreaterThan(2)
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })
})

describe('Producer > send > bad input', () => {
  const cases: [string, (send: (records: unknown) => Promise<unknown>, topic: (name: unknown, records: unknown) => Promise<unknown>) => Promise<unknown>, ErrorCode][] = [
    ['a topic that is not a string', (_, topic) => topic(42, [{ value: 'v' }]), 'ERR_INVALID_ARGUMENT'],
    ['an unknown topic', (_, topic) => topic('nope', [{ value: 'v' }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION'],
    ['a partition past the last', (send) => send({ value: 'v', partition: 2 }), 'ERR_UNKNOWN_TOPIC_OR_PARTITION'],
    ['a negative partition', (send) => send({ value: 'v', partition: -1 }), 'ERR_INVALID_ARGUMENT'],
    ['a fractional partition', (send) => send({ value: 'v', partition: 0.5 }), 'ERR_INVALID_ARGUMENT'],
    ['a string partition', (send) => send({ value: 'v', partition: '0' }), 'ERR_INVALID_ARGUMENT'],
    ['a missing value', (send) => send({ key: 'k' }), 'ERR_INVALID_ARGUMENT'],
    ['a numeric value', (send) => send({ value: 5 }), 'ERR_INVALID_ARGUMENT'],
    ['an object key', (send) => send({ key: { a: 1 }, value: 'v' }), 'ERR_INVALID_ARGUMENT'],
    ['headers that are a number', (send) => send({ value: 'v', headers: 5 }), 'ERR_INVALID_ARGUMENT'],
    ['a numeric header value', (send) => send({ value: 'v', headers: { h: 1 } }), 'ERR_INVALID_ARGUMENT'],
    ['a header pair without a string key', (send) => send({ value: 'v', headers: [{ key: 1, value: 'x' }] }), 'ERR_INVALID_ARGUMENT'],
    ['a negative timestamp', (send) => send({ value: 'v', timestamp: -1 }), 'ERR_INVALID_ARGUMENT'],
    ['a string timestamp', (send) => send({ value: 'v', timestamp: '2024' }), 'ERR_INVALID_ARGUMENT'],
    ['a record that is null', (send) => send(null), 'ERR_INVALID_ARGUMENT'],
    ['a record that is a string', (send) => send('value'), 'ERR_INVALID_ARGUMENT'],
    ['a record over the topic maxMessageBytes', (send) => send({ value: 'x'.repeat(600) }), 'ERR_RECORD_TOO_LARGE'],
  ]

  it.each(cases)('%s is a typed error, and nothing from the call is written or buffered', async (_name, run, code) => {
    const host = await FakeHost.create({ t: { partitions: 2, config: { maxMessageBytes: 500 } } })
    const producer = host.producer({ lingerMs: 0 })
    await expectCode(
      () =>
        run(
          (record) => producer.send('t', [{ value: 'valid first', partition: 0 }, record as never]),
          (name, records) => producer.send(name as string, records as never),
        ),
      code,
    )
    await producer.flush()
    expect([host.realLog('t', 0).logEndOffset, host.realLog('t', 1).logEndOffset]).toEqual([0, 0])
    expect(producer.bufferedBytes).toBe(0)
    // The producer still works afterwards.
    expect((await producer.send('t', { value: 'ok', partition: 1 })).offset).toBe(0)
    await producer.close()
  })

  it('sendBatch refuses a non-array, records that are not an array, and an invalid group', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0 })
    await expectCode(() => producer.sendBatch({ topic: 't', messages: [] } as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => producer.sendBatch([{ topic: 't', messages: { value: 'v' } as never }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => producer.sendBatch([{ topic: 't', messages: [{ value: 'v' }] }, null as never]), 'ERR_INVALID_ARGUMENT')
    await producer.flush()
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    await producer.close()
  })

  it('ERR_RECORD_TOO_LARGE names the limit: maxRequestSize, the topic maxMessageBytes, or bufferMemory', async () => {
    const host = await FakeHost.create({ t: { partitions: 1, config: { maxMessageBytes: 1000 } } })
    const small = host.producer({ maxRequestSize: 300, lingerMs: 0 })
    expect((await expectCode(() => small.send('t', { value: 'x'.repeat(400) }), 'ERR_RECORD_TOO_LARGE')).message).toMatch(/maxRequestSize \(300\)/)
    const big = host.producer({ lingerMs: 0 })
    expect((await expectCode(() => big.send('t', { value: 'x'.repeat(2000) }), 'ERR_RECORD_TOO_LARGE')).message).toMatch(/maxMessageBytes \(1000\)/)
    const tight = host.producer({ bufferMemory: 100, lingerMs: 0 })
    expect((await expectCode(() => tight.send('t', { value: 'x'.repeat(200) }), 'ERR_RECORD_TOO_LARGE')).message).toMatch(/bufferMemory \(100\)/)
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    await Promise.all([small.close(), big.close(), tight.close()])
  })

  it('invalid producer options are ERR_INVALID_CONFIG naming the key', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    expect(() => host.producer({ lingerMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG', context: expect.objectContaining({ key: 'lingerMs' }) }))
    expect(() => host.producer({ acks: 1, idempotent: true })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG' }))
    expect(host.hookCount).toBe(0)
  })
})

describe('Producer > lifecycle', () => {
  it('close flushes first, is idempotent, unregisters from the host, and later sends are ERR_CLOSED', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 60_000 })
    const sent = producer.send('t', { value: 'lingering' })
    expect(host.hookCount).toBe(1)
    const closing = producer.close()
    expect(producer.close()).toBe(closing)
    await expectCode(() => producer.send('t', { value: 'late' }), 'ERR_CLOSED')
    await closing
    expect((await sent).offset).toBe(0)
    expect(host.realLog('t', 0).recoveryPoint).toBe(1)
    expect(host.hookCount).toBe(0)
    expect(producer.closed).toBe(true)
    await expectCode(() => producer.send('t', { value: 'late' }), 'ERR_CLOSED')
  })

  it('closing the host closes its producers, which flush first', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 60_000 })
    const sent = producer.send('t', { value: 'lingering' })
    await host.close()
    expect(producer.closed).toBe(true)
    expect((await sent).offset).toBe(0)
    expect(() => host.producer()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})

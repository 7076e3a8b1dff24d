/**
 * Idempotence end to end: batches carry the producer id, epoch and per-partition sequences; a batch
 * whose append reached the log but whose acknowledgement was lost is retried and appears once — also
 * across a restart between the write and the retry (state from the `.snapshot`, or replayed from the
 * log); failed fsyncs are retried in order; retries stop at `retries` or `deliveryTimeoutMs`; an
 * out-of-order sequence and a fenced epoch are typed errors.
 */
import { describe, expect, it } from 'vitest'
import { decodeProducerSnapshot } from '../../src/codec/producer-snapshot'
import { encodeRecordBatch, readBatchHeader, type BatchHeader } from '../../src/codec/record-batch'
import { IoError } from '../../src/errors/index'
import type { PartitionLog } from '../../src/storage/partition-log'
import { expectCode } from '../engine/helpers'
import { FakeHost, ROOT, settle, T0, values } from './helpers'

function headers(log: PartitionLog): BatchHeader[] {
  const bytes = log.read(log.logStartOffset, 1 << 20, { uncommitted: true }).records
  const out: BatchHeader[] = []
  for (let pos = 0; pos < bytes.length; pos += out[out.length - 1]!.sizeInBytes) out.push(readBatchHeader(bytes, pos))
  return out
}

/** A log whose next `times` appends write the batch and then throw ERR_IO: the acknowledgement is lost. */
function loseAcknowledgements(host: FakeHost, times: number, afterWrite: () => void = () => {}): void {
  let left = times
  host.wrap = (log) => ({
    append: (data, options) => {
      const result = log.append(data, options)
      if (left > 0) {
        left--
        afterWrite()
        throw new IoError('write', `${log.dir}/00000000000000000000.log`, 'EIO')
      }
      return result
    },
    flushUpTo: (offset) => log.flushUpTo(offset),
  })
}

/** Drives the clock in steps of `stepMs` until `promise` settles. */
async function untilSettled<T>(host: FakeHost, promise: Promise<T>, stepMs = 100): Promise<PromiseSettledResult<T>> {
  let result: PromiseSettledResult<T> | undefined
  void promise.then(
    (value) => (result = { status: 'fulfilled', value }),
    (reason: unknown) => (result = { status: 'rejected', reason }),
  )
  for (let i = 0; result === undefined && i < 10_000; i++) {
    await settle()
    if (result === undefined) host.clock.advance(stepMs)
  }
  return result!
}

describe('Producer > idempotence', () => {
  it('stamps batches with the producer id, epoch 0 and consecutive sequences per partition', async () => {
    const host = await FakeHost.create({ t: { partitions: 2 } })
    host.nextProducerId = 41
    const producer = host.producer({ lingerMs: 0 })
    await producer.send('t', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }])
    await producer.send('t', [{ value: 'd', partition: 0 }])
    expect(producer.producerIdAndEpoch).toEqual({ producerId: 41, producerEpoch: 0 })
    expect(headers(host.realLog('t', 0)).map((h) => [h.producerId, h.producerEpoch, h.baseSequence, h.lastSequence])).toEqual([
      [41, 0, 0, 1],
      [41, 0, 2, 2],
    ])
    expect(headers(host.realLog('t', 1)).map((h) => [h.producerId, h.baseSequence])).toEqual([[41, 0]])
    await producer.close()
  })

  it('a non-idempotent producer stamps no producer id', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0, idempotent: false })
    await producer.send('t', { value: 'a' })
    expect(headers(host.realLog('t', 0)).map((h) => [h.producerId, h.producerEpoch, h.baseSequence])).toEqual([[-1, -1, -1]])
    expect(producer.producerIdAndEpoch).toBeUndefined()
    await producer.close()
  })

  it('a batch written whose acknowledgement was lost is retried and appears once, with its original offsets', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0, retryBackoffMs: 100 })
    await producer.send('t', { value: 'before' })
    loseAcknowledgements(host, 1)
    const sent = producer.send('t', [{ value: 'x' }, { value: 'y' }])
    await settle()
    expect(host.realLog('t', 0).logEndOffset).toBe(3) // written once already
    const result = await untilSettled(host, sent)
    expect(result).toMatchObject({ status: 'fulfilled', value: [{ offset: 1 }, { offset: 2 }] })
    expect(values(host.realLog('t', 0))).toEqual(['before', 'x', 'y'])
    await producer.send('t', { value: 'after' })
    expect(values(host.realLog('t', 0))).toEqual(['before', 'x', 'y', 'after'])
    await producer.close()
  })

  it.each([
    ['a clean restart (state from the .snapshot at the log end)', 'clean'],
    ['a process crash (no snapshot: state replayed from the log)', 'crash'],
    ['a clean restart whose snapshot was deleted (state rebuilt from the log)', 'deleted'],
  ] as const)('a lost acknowledgement is deduplicated after %s between the write and the retry', async (_name, restart) => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0, retryBackoffMs: 100 })
    await producer.send('t', { value: 'before' })
    loseAcknowledgements(host, 1)
    const sent = producer.send('t', { value: 'once' })
    await settle()
    expect(host.realLog('t', 0).logEndOffset).toBe(2)

    // The data directory restarts while the producer waits to retry.
    const snapshot = `${ROOT}/t-0/${'2'.padStart(20, '0')}.snapshot`
    if (restart === 'crash') {
      await host.restartAfterProcessCrash()
      expect(host.fs.exists(snapshot)).toBe(false)
    } else {
      for (const log of host.logs.values()) await log.close()
      expect(decodeProducerSnapshot(host.fs.readFile(snapshot))).toMatchObject([{ producerId: producer.producerIdAndEpoch!.producerId, lastSequence: 1, lastOffset: 1 }])
      if (restart === 'deleted') host.fs.unlink(snapshot)
      await host.openLogs()
    }
    const result = await untilSettled(host, sent)
    expect(result).toMatchObject({ status: 'fulfilled', value: { offset: 1 } })
    expect(values(host.realLog('t', 0))).toEqual(['before', 'once'])
    await producer.close()
  })

  it('a failed fsync in "fsync" durability cuts the batches in flight; they are retried in order, each once', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0, retryBackoffMs: 100 })
    await producer.send('t', { value: 'before' })
    const clear = host.fs.injectFault({ op: 'sync', pathIncludes: '.log', errno: 'EIO', times: 1 })
    const sent = Promise.all(['a', 'b', 'c'].map((value) => producer.send('t', { value })))
    const result = await untilSettled(host, sent)
    clear()
    expect(result.status).toBe('fulfilled')
    expect(values(host.realLog('t', 0))).toEqual(['before', 'a', 'b', 'c'])
    expect((result as PromiseFulfilledResult<{ offset: number }[]>).value.map((r) => r.offset)).toEqual([1, 2, 3])
    await producer.close()
  })

  it('a failed fsync in "none" durability leaves the batch in the log; the retry is recognised as a duplicate', async () => {
    const host = await FakeHost.create({ t: { partitions: 1, config: { durability: 'none' } } })
    const producer = host.producer({ lingerMs: 0, retryBackoffMs: 100 })
    const clear = host.fs.injectFault({ op: 'sync', pathIncludes: '.log', errno: 'EIO', times: 1 })
    const result = await untilSettled(host, producer.send('t', { value: 'kept' }))
    clear()
    expect(result).toMatchObject({ status: 'fulfilled', value: { offset: 0 } })
    expect(values(host.realLog('t', 0))).toEqual(['kept'])
    expect(host.realLog('t', 0).recoveryPoint).toBe(1)
    await producer.close()
  })

  it('retries stop after `retries` attempts with the last error, and nothing is written', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    let attempts = 0
    host.wrap = () => ({
      append: () => {
        attempts++
        throw new IoError('write', '/d/t-0/x.log', 'ENOSPC')
      },
      flushUpTo: () => Promise.resolve(),
    })
    const producer = host.producer({ lingerMs: 0, retries: 2, retryBackoffMs: 100 })
    const result = await untilSettled(host, producer.send('t', { value: 'v' }))
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_NO_SPACE' } })
    expect(attempts).toBe(3)
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    // The producer recovers once the disk does, with the epoch bumped (the failed batch's fate was unknown).
    host.wrap = undefined
    const next = await untilSettled(host, producer.send('t', { value: 'w' }))
    expect(next).toMatchObject({ status: 'fulfilled', value: { offset: 0 } })
    expect(producer.producerIdAndEpoch!.producerEpoch).toBe(1)
    expect(headers(host.realLog('t', 0)).map((h) => [h.producerEpoch, h.baseSequence])).toEqual([[1, 0]])
    await producer.close()
  })

  it('deliveryTimeoutMs bounds the retries: a failing batch fails with its last error before its deadline', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    host.wrap = () => ({
      append: () => {
        throw new IoError('write', '/d/t-0/x.log', 'EIO')
      },
      flushUpTo: () => Promise.resolve(),
    })
    const producer = host.producer({ lingerMs: 0, retryBackoffMs: 100, requestTimeoutMs: 0, deliveryTimeoutMs: 1000 })
    const result = await untilSettled(host, producer.send('t', { value: 'a' }))
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_IO' } })
    expect(host.clock.now() - T0).toBeLessThan(1000)
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
    await producer.close()
  })

  it('a batch that cannot be appended before deliveryTimeoutMs (no producer id yet) fails with ERR_TIMEOUT', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    host.allocateProducerId = () => new Promise(() => {}) // the id allocation hangs (a stuck disk)
    const producer = host.producer({ lingerMs: 0, requestTimeoutMs: 0, deliveryTimeoutMs: 1000 })
    let outcome: unknown
    void producer.send('t', { value: 'a' }).catch((e: unknown) => (outcome = e))
    host.clock.advance(999)
    await settle()
    expect(outcome).toBeUndefined()
    host.clock.advance(1)
    await settle()
    expect(outcome).toMatchObject({ code: 'ERR_TIMEOUT', topic: 't', partition: 0 })
    expect((outcome as Error).message).toMatch(/1000 ms has passed since batch creation.*nothing was written/)
    expect(producer.bufferedBytes).toBe(0)
    expect(host.realLog('t', 0).logEndOffset).toBe(0)
  })

  it('an out-of-order sequence is ERR_OUT_OF_ORDER_SEQUENCE; the producer bumps its epoch and carries on', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0 })
    await producer.send('t', { value: 'a' })
    const { producerId } = producer.producerIdAndEpoch!
    // A zombie with the same producer id and epoch appends sequences 1..2 behind the producer's back.
    host.realLog('t', 0).append(zombieBatch(producerId, 0, 1, 2))
    await expectCode(() => producer.send('t', { value: 'b' }), 'ERR_OUT_OF_ORDER_SEQUENCE')
    await settle()
    expect(producer.producerIdAndEpoch).toEqual({ producerId, producerEpoch: 1 })
    expect((await producer.send('t', { value: 'c' })).offset).toBe(3)
    expect(headers(host.realLog('t', 0)).at(-1)).toMatchObject({ producerEpoch: 1, baseSequence: 0 })
    expect(values(host.realLog('t', 0))).toEqual(['a', 'z1', 'z2', 'c'])
    await producer.close()
  })

  it('a producer whose epoch was fenced gets ERR_INVALID_PRODUCER_EPOCH', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 0 })
    await producer.send('t', { value: 'a' })
    const { producerId } = producer.producerIdAndEpoch!
    host.realLog('t', 0).append(zombieBatch(producerId, 5, 0, 1))
    await expectCode(() => producer.send('t', { value: 'b' }), 'ERR_INVALID_PRODUCER_EPOCH')
    expect(values(host.realLog('t', 0))).toEqual(['a', 'z0'])
    await producer.close()
  })
})

function zombieBatch(producerId: number, producerEpoch: number, baseSequence: number, count: number): Buffer {
  return encodeRecordBatch({
    producerId,
    producerEpoch,
    baseSequence,
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`z${baseSequence + i}`), timestamp: T0 })),
  })
}

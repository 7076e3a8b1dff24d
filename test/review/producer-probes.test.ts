/**
 * Review probe of the producer's write-at-send path: batches split after compression, buffer memory
 * back to 0 on every path, caller buffers that are views into a larger ArrayBuffer, and sends that
 * share a batch while one of them waits.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KafkaliteError } from '../../src/errors/index'
import { readBatchHeader } from '../../src/codec/record-batch'
import { FakeHost, logRecords, settle } from '../producer/helpers'

describe('review: producer write-at-send', () => {
  it('a batch that compression makes too large is split, every record written once in order, idempotent sequences consecutive, memory back to 0', async () => {
    const host = await FakeHost.create({ t: { partitions: 1, config: { compressionType: 'gzip', maxMessageBytes: 3000 } } })
    const producer = host.producer({ lingerMs: 100, idempotent: true, acks: 'all' })
    await settle()
    const values = Array.from({ length: 10 }, () => randomBytes(1450))
    const sent = values.map((value, i) => producer.send('t', { value, key: `k${i}` }))
    await producer.flush()
    host.clock.advance(100)
    await producer.flush()
    const results = await Promise.all(sent)
    expect(results.map((r) => r.offset)).toEqual(values.map((_, i) => i))
    const written = logRecords(host.realLog('t', 0))
    expect(written.map((r) => r.value)).toEqual(values)
    const bytes = host.realLog('t', 0).read(0, 1 << 20).records
    let expectedSequence = 0
    let batches = 0
    for (let pos = 0; pos < bytes.length; ) {
      const h = readBatchHeader(bytes, pos)
      expect(h.sizeInBytes).toBeLessThanOrEqual(3000)
      expect(h.compression).toBe('gzip')
      expect(h.baseSequence).toBe(expectedSequence)
      expectedSequence += h.recordsCount
      pos += h.sizeInBytes
      batches++
    }
    // Two records make a batch just under 3000 uncompressed bytes; gzip makes random bytes larger, so each was split.
    expect(batches).toBe(10)
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })

  it('buffer memory returns to 0 after a failed append, after acks 0, and after close fails a waiting call', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    host.wrap = (log) => ({
      append: () => {
        throw new KafkaliteError('ERR_INVALID_ARGUMENT', 'refused')
      },
      flushUpTo: (o) => log.flushUpTo(o),
    })
    const failing = host.producer({ lingerMs: 0 })
    await expect(failing.send('t', { value: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(failing.bufferedBytes).toBe(0)
    await failing.close()
    const acks0 = host.producer({ lingerMs: 0, acks: 0 })
    await acks0.send('t', [{ value: 'a' }, { value: 'b' }])
    await acks0.flush()
    expect(acks0.bufferedBytes).toBe(0)
    await acks0.close()
    host.wrap = undefined
    const small = host.producer({ lingerMs: 1000, bufferMemory: 400 })
    const first = small.send('t', { value: 'y'.repeat(300) })
    const waiting = small.send('t', { value: 'z'.repeat(300) })
    await settle()
    const closing = small.close()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await closing
    await first
    expect(small.bufferedBytes).toBe(0)
  })

  it('keys, values and header values that are views into a larger ArrayBuffer are written as their own bytes, and copied at send', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 10 })
    const backing = Buffer.from('0123456789abcdefghij')
    const key = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3)
    const value = backing.subarray(10, 15)
    const header = new Uint8Array(backing.buffer, backing.byteOffset + 15, 2)
    const sent = producer.send('t', { key, value, headers: { h: header, n: null } })
    backing.fill(0x2e)
    host.clock.advance(10)
    await sent
    const [r] = logRecords(host.realLog('t', 0))
    expect([r!.key!.toString(), r!.value!.toString(), r!.headers[0]!.value!.toString(), r!.headers[1]!.value]).toEqual(['234', 'abcde', 'fg', null])
    await producer.close()
  })

  it('calls sharing a lingering batch while a later one waits for memory: every record once, in call order, with its own bytes', async () => {
    const host = await FakeHost.create({ t: { partitions: 1 } })
    const producer = host.producer({ lingerMs: 50, bufferMemory: 1000 })
    const buffers = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200, 0x61 + i))
    const sent = buffers.map((value) => producer.send('t', { value, timestamp: 1000 - buffers.indexOf(value) }))
    for (const b of buffers) b.fill(0x21)
    for (let round = 0; round < 10; round++) {
      host.clock.advance(50)
      await settle()
    }
    await producer.flush()
    const results = await Promise.all(sent)
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5])
    expect(logRecords(host.realLog('t', 0)).map((r) => [r.value!.toString(), r.timestamp])).toEqual(
      buffers.map((_, i) => [String.fromCharCode(0x61 + i).repeat(200), 1000 - i]),
    )
    expect(producer.bufferedBytes).toBe(0)
    await producer.close()
  })
})

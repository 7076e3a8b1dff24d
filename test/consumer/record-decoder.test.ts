/**
 * The consumer's record decoder is a second reader of the record format (the codec's `decodeRecords` is
 * the first). Invariants checked here:
 * - for any batch the codec writes, both readers return the same records (offset, timestamp, key, value,
 *   headers), for every starting offset, compressed or not, CreateTime or LogAppendTime;
 * - a structurally corrupt batch is ERR_CORRUPT_RECORD from both;
 * - keys and values are Buffers in every way a caller can tell (buffer-view.ts).
 * Randomised batches print their seed; rerun with SEED=<n> to reproduce.
 */
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { decodeRecords, encodeRecordBatch, setBaseOffset, setLogAppendTime, type RecordInput } from '../../src/codec/record-batch'
import { loadCodecs } from '../../src/codec/compression/index'
import { bufferView } from '../../src/consumer/buffer-view'
import { decodeBatch } from '../../src/consumer/record-decoder'
import { expectSyncCode } from '../engine/helpers'
import { mulberry32 } from '../helpers/random'

const TARGET = { topic: 't', partition: 3, context: { topic: 't', partition: 3 } }
const LIMIT = 1 << 24

function randomBytes(next: () => number, max: number): Buffer | null {
  if (next() < 0.1) return null
  const b = Buffer.alloc(Math.floor(next() * max))
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(next() * 256)
  return b
}

function randomBatch(next: () => number): Buffer {
  const count = 1 + Math.floor(next() * 40)
  const base = 1_700_000_000_000
  let offsetDelta = -1
  const records: RecordInput[] = Array.from({ length: count }, () => {
    offsetDelta += 1 + (next() < 0.2 ? Math.floor(next() * 5) : 0) // compaction-like gaps
    // Timestamp deltas of every varlong width, negative ones included.
    const spread = [0, 100, 100_000, 10_000_000_000][Math.floor(next() * 4)]!
    return {
      key: randomBytes(next, 40),
      value: randomBytes(next, 300),
      timestamp: base + Math.floor((next() - 0.3) * spread),
      offsetDelta,
      headers: next() < 0.3 ? [{ key: `h${Math.floor(next() * 9)}é`, value: randomBytes(next, 10) }] : [],
    }
  })
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
  const batch = encodeRecordBatch({ records, compression: codecs[Math.floor(next() * codecs.length)]! })
  setBaseOffset(batch, 0, Math.floor(next() * 1_000_000))
  if (next() < 0.2) setLogAppendTime(batch, 0, base + 42)
  return batch
}

const plain = (r: { offset: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }) => ({
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key === null ? null : r.key.toString('hex'),
  value: r.value === null ? null : r.value.toString('hex'),
  headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
})

describe('Consumer > record decoder', () => {
  it('returns what the codec reader returns, from every starting offset (randomised)', async () => {
    await loadCodecs()
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
    console.log(`record decoder equivalence seed: ${seed}`)
    const next = mulberry32(seed)
    for (let b = 0; b < 60; b++) {
      const batch = randomBatch(next)
      const expected = decodeRecords(batch, 0, { maxDecompressedBytes: LIMIT }).map(plain)
      const got = decodeBatch(batch, 0, 0, LIMIT, TARGET)
      expect(got.map(plain), `seed ${seed}, batch ${b}`).toEqual(expected)
      expect(got.every((r) => r.topic === 't' && r.partition === 3)).toBe(true)
      const from = expected[Math.floor(next() * expected.length)]!.offset + (next() < 0.5 ? 0 : 1)
      expect(decodeBatch(batch, 0, from, LIMIT, TARGET).map(plain), `seed ${seed}, batch ${b}, from ${from}`).toEqual(expected.filter((r) => r.offset >= from))
    }
  })

  it('decodes a batch in the middle of a buffer of batches', () => {
    const a = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('a'), timestamp: 1 }] })
    const b = encodeRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('b'), timestamp: 2 }] })
    setBaseOffset(b, 0, 1)
    const both = Buffer.concat([a, b])
    expect(decodeBatch(both, a.length, 0, LIMIT, TARGET).map(plain)).toEqual([{ offset: 1, timestamp: 2, key: '6b', value: '62', headers: [] }])
  })

  it.each([
    ['a record length past the batch', (batch: Buffer) => (batch[61] = 0x7e)],
    ['a key length past its record', (batch: Buffer) => (batch[65] = 0x7e)],
    ['a record count larger than the batch can hold', (batch: Buffer) => batch.writeInt32BE(1000, 57)],
    ['a varint longer than 5 bytes', (batch: Buffer) => batch.fill(0xff, 61, 67)],
    // Headers are made only when read, but checked when the batch is decoded.
    ['a header count with no headers after it', (batch: Buffer) => (batch[batch.length - 1] = 0x02)],
  ])('%s is ERR_CORRUPT_RECORD, as from the codec reader', (_name, damage) => {
    const batch = encodeRecordBatch({ records: [{ key: Buffer.from('key'), value: Buffer.from('value'), timestamp: 5 }] })
    damage(batch)
    expectSyncCode(() => decodeRecords(batch, 0, { maxDecompressedBytes: LIMIT }), 'ERR_CORRUPT_RECORD')
    const error = expectSyncCode(() => decodeBatch(batch, 0, 0, LIMIT, TARGET), 'ERR_CORRUPT_RECORD') as unknown as { context: Record<string, unknown> }
    expect(error.context).toMatchObject({ topic: 't', partition: 3, baseOffset: 0 })
  })
})

describe('Consumer > buffer views', () => {
  it('are Buffers to every check a caller makes, over the same memory', () => {
    const backing = Buffer.from('0123456789')
    const view = bufferView(backing.buffer as ArrayBuffer, backing.byteOffset + 2, 4)

    expect(Buffer.isBuffer(view)).toBe(true)
    expect(view instanceof Buffer).toBe(true)
    expect(view.constructor).toBe(Buffer)
    expect(view.toString()).toBe('2345')
    expect(view.readUInt8(0)).toBe(0x32)
    expect(view.equals(Buffer.from('2345'))).toBe(true)
    expect(view).toEqual(Buffer.from('2345'))
    expect(Buffer.compare(view, Buffer.from('2345'))).toBe(0)
    expect(Buffer.concat([view, Buffer.from('!')]).toString()).toBe('2345!')
    expect(view.subarray(1, 3).toString()).toBe('34')
    expect(JSON.stringify(view)).toBe(JSON.stringify(Buffer.from('2345')))
    expect(inspect(view)).toBe('<Buffer 32 33 34 35>')
    backing[2] = 0x41
    expect(view.toString()).toBe('A345')
  })
})

/**
 * Zigzag varints against Kafka's ByteUtilsTest vectors (kafka-format.md §1.3), plus the number/bigint
 * agreement of varlongs over the whole safe range. Randomized cases print their seed.
 */
import { describe, expect, it } from 'vitest'
import { expectCorrupt } from '../helpers/errors'
import { mulberry32 } from '../helpers/random'
import {
  readVarint,
  readVarlong,
  readVarlongBig,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
  writeVarlongBig,
  type Cursor,
} from '../../src/codec/varint'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

// Kafka ByteUtilsTest.testVarintSerde / testVarlongSerde.
const INT_VECTORS: Array<[number, string]> = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7e'],
  [-64, '7f'],
  [64, '8001'],
  [-65, '8101'],
  [8191, 'fe7f'],
  [-8192, 'ff7f'],
  [8192, '808001'],
  [2147483647, 'feffffff0f'],
  [-2147483648, 'ffffffff0f'],
]
const LONG_VECTORS: Array<[bigint, string]> = [
  ...INT_VECTORS.map(([v, h]): [bigint, string] => [BigInt(v), h]),
  [9223372036854775807n, 'feffffffffffffffff01'],
  [-9223372036854775808n, 'ffffffffffffffffff01'],
]

function encodeWith(write: (buf: Buffer, pos: number) => number): Buffer {
  const buf = Buffer.alloc(16)
  return buf.subarray(0, write(buf, 0))
}

function cursorOver(buf: Buffer): Cursor {
  return { pos: 0, end: buf.length }
}

describe('varint > Kafka vectors', () => {
  for (const [value, bytes] of INT_VECTORS) {
    it(`varint ${value} is ${bytes} both ways`, () => {
      expect(encodeWith((b, p) => writeVarint(b, p, value)).toString('hex')).toBe(bytes)
      expect(sizeOfVarint(value)).toBe(bytes.length / 2)
      const cursor = cursorOver(hex(bytes))
      expect(readVarint(hex(bytes), cursor)).toBe(value)
      expect(cursor.pos).toBe(bytes.length / 2)
    })
  }

  for (const [value, bytes] of LONG_VECTORS) {
    it(`varlong ${value} is ${bytes} both ways (bigint)`, () => {
      expect(encodeWith((b, p) => writeVarlongBig(b, p, value)).toString('hex')).toBe(bytes)
      const cursor = cursorOver(hex(bytes))
      expect(readVarlongBig(hex(bytes), cursor)).toBe(value)
      expect(cursor.pos).toBe(bytes.length / 2)
    })
  }

  for (const [value, bytes] of INT_VECTORS) {
    it(`varlong ${value} is ${bytes} both ways (number)`, () => {
      expect(encodeWith((b, p) => writeVarlong(b, p, value)).toString('hex')).toBe(bytes)
      expect(sizeOfVarlong(value)).toBe(bytes.length / 2)
      const cursor = cursorOver(hex(bytes))
      expect(readVarlong(hex(bytes), cursor)).toBe(value)
      expect(cursor.pos).toBe(bytes.length / 2)
    })
  }
})

describe('varint > varlong as number', () => {
  const edges = [
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 35 - 1,
    2 ** 48 + 12345,
    -(2 ** 48) - 54321,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER - 1,
    1700000000000,
    -1700000000000,
  ]
  for (const value of edges) {
    it(`writes ${value} byte-identically to the bigint encoder and reads it back exactly`, () => {
      const asNumber = encodeWith((b, p) => writeVarlong(b, p, value))
      expect(asNumber.toString('hex')).toBe(encodeWith((b, p) => writeVarlongBig(b, p, BigInt(value))).toString('hex'))
      expect(sizeOfVarlong(value)).toBe(asNumber.length)
      expect(readVarlong(asNumber, cursorOver(asNumber))).toBe(value)
    })
  }

  it('agrees with the bigint encoder on random safe integers of every magnitude', () => {
    const seed = Date.now() >>> 0
    const random = mulberry32(seed)
    for (let i = 0; i < 20_000; i++) {
      const magnitude = 2 ** Math.floor(random() * 54)
      const value = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(random() * magnitude)) * (random() < 0.5 ? -1 : 1)
      const bytes = encodeWith((b, p) => writeVarlong(b, p, value))
      const reference = encodeWith((b, p) => writeVarlongBig(b, p, BigInt(value)))
      if (!bytes.equals(reference) || readVarlong(bytes, cursorOver(bytes)) !== value) {
        throw new Error(`varlong mismatch for ${value} (seed ${seed})`)
      }
      expect(readVarlongBig(bytes, cursorOver(bytes))).toBe(BigInt(value))
    }
  })

  it('refuses to read a value outside the safe integer range instead of rounding it', () => {
    for (const value of [2n ** 53n, -(2n ** 53n), 9223372036854775807n, -9223372036854775808n]) {
      const bytes = encodeWith((b, p) => writeVarlongBig(b, p, value))
      expect(() => readVarlong(bytes, cursorOver(bytes))).toThrow(/safe integer/)
    }
  })
})

describe('varint > reads advance a shared cursor', () => {
  it('reads consecutive values and stops at the cursor end', () => {
    const buf = Buffer.alloc(32)
    let pos = writeVarint(buf, 0, 300)
    pos = writeVarlong(buf, pos, -(2 ** 40))
    pos = writeVarint(buf, pos, -1)
    const cursor: Cursor = { pos: 0, end: pos }
    expect(readVarint(buf, cursor)).toBe(300)
    expect(readVarlong(buf, cursor)).toBe(-(2 ** 40))
    expect(readVarint(buf, cursor)).toBe(-1)
    expect(cursor.pos).toBe(pos)
  })
})

describe('varint > corrupt input', () => {
  it('rejects a varint longer than 5 bytes, as Kafka does', () => {
    const bytes = hex('ffffffff8f01')
    expectCorrupt(() => readVarint(bytes, cursorOver(bytes)))
  })

  it('rejects a varlong longer than 10 bytes', () => {
    const bytes = hex('ffffffffffffffffff8101')
    expectCorrupt(() => readVarlong(bytes, cursorOver(bytes)))
    expectCorrupt(() => readVarlongBig(bytes, cursorOver(bytes)))
  })

  it('rejects a varint that runs into the cursor end, even with bytes after it in the buffer', () => {
    const bytes = hex('8080 01')
    expectCorrupt(() => readVarint(bytes, { pos: 0, end: 2 }))
    expectCorrupt(() => readVarlong(bytes, { pos: 0, end: 2 }))
    expectCorrupt(() => readVarlongBig(bytes, { pos: 0, end: 2 }))
    expectCorrupt(() => readVarint(bytes, { pos: 3, end: 3 }))
  })
})

/**
 * Producer snapshot files. The golden file is written out field by field from kafka-format.md §2.9, and its
 * CRC is computed by a bitwise CRC-32C defined here (checked against the standard "123456789" vector), not by
 * the library the codec uses.
 */
import { describe, expect, it } from 'vitest'
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  PRODUCER_SNAPSHOT_ENTRY_SIZE,
  PRODUCER_SNAPSHOT_HEADER_SIZE,
  type ProducerSnapshotEntry,
} from '../../src/codec/producer-snapshot'
import { expectCorrupt } from '../helpers/errors'
import { AssertionError } from '../../src/util/assert'

function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

const ENTRY_A: ProducerSnapshotEntry = {
  producerId: 1000,
  producerEpoch: 2,
  lastSequence: 41,
  lastOffset: 1234,
  offsetDelta: 9,
  timestamp: 1700000000000,
  coordinatorEpoch: -1,
  currentTxnFirstOffset: -1,
}
const ENTRY_B: ProducerSnapshotEntry = {
  producerId: 7,
  producerEpoch: 0,
  lastSequence: -1,
  lastOffset: -1,
  offsetDelta: 0,
  timestamp: -1,
  coordinatorEpoch: 5,
  currentTxnFirstOffset: 1200,
}

const ENTRIES_HEX =
  '00000002' + // entryCount
  // entry A
  '00000000000003e8' + // producerId 1000
  '0002' + // epoch 2
  '00000029' + // lastSequence 41
  '00000000000004d2' + // lastOffset 1234
  '00000009' + // offsetDelta 9
  '0000018bcfe56800' + // timestamp 1700000000000
  'ffffffff' + // coordinatorEpoch -1
  'ffffffffffffffff' + // currentTxnFirstOffset -1
  // entry B
  '0000000000000007' +
  '0000' +
  'ffffffff' +
  'ffffffffffffffff' +
  '00000000' +
  'ffffffffffffffff' +
  '00000005' +
  '00000000000004b0'

function golden(): Buffer {
  const covered = hex(ENTRIES_HEX)
  const head = Buffer.alloc(6)
  head.writeInt16BE(1, 0)
  head.writeUInt32BE(bitwiseCrc32c(covered), 2)
  return Buffer.concat([head, covered])
}

describe('producer snapshot', () => {
  it('the test CRC-32C matches the standard check value', () => {
    expect(bitwiseCrc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })

  it('has a 10-byte header and 46-byte entries', () => {
    expect(PRODUCER_SNAPSHOT_HEADER_SIZE).toBe(10)
    expect(PRODUCER_SNAPSHOT_ENTRY_SIZE).toBe(46)
  })

  it('encodes the golden file byte for byte', () => {
    expect(encodeProducerSnapshot([ENTRY_A, ENTRY_B]).toString('hex')).toBe(golden().toString('hex'))
  })

  it('decodes the golden file', () => {
    expect(decodeProducerSnapshot(golden())).toEqual([ENTRY_A, ENTRY_B])
  })

  it('encodes an empty snapshot as version, CRC of a zero count, and the count', () => {
    const buf = encodeProducerSnapshot([])
    expect(buf.length).toBe(10)
    expect(buf.readUInt32BE(2)).toBe(bitwiseCrc32c(Buffer.alloc(4)))
    expect(decodeProducerSnapshot(buf)).toEqual([])
  })

  it('decodes from a Uint8Array view into a larger buffer', () => {
    const file = golden()
    const padded = new Uint8Array(file.length + 8)
    padded.set(file, 4)
    expect(decodeProducerSnapshot(padded.subarray(4, 4 + file.length))).toEqual([ENTRY_A, ENTRY_B])
  })

  it('rejects a flipped bit anywhere in the covered bytes (CRC mismatch)', () => {
    const buf = golden()
    for (const at of [6, 10, 30, buf.length - 1]) {
      const bad = Buffer.from(buf)
      bad[at]! ^= 0x01
      expect(expectCorrupt(() => decodeProducerSnapshot(bad)).message).toMatch(/CRC mismatch/)
    }
  })

  it('rejects a damaged CRC field', () => {
    const bad = golden()
    bad[3]! ^= 0x80
    expectCorrupt(() => decodeProducerSnapshot(bad))
  })

  it('rejects any version but 1', () => {
    for (const v of [0, 2, -1]) {
      const bad = golden()
      bad.writeInt16BE(v, 0)
      expect(expectCorrupt(() => decodeProducerSnapshot(bad)).message).toMatch(/unknown version/)
    }
  })

  it('rejects a file shorter than the header', () => {
    expectCorrupt(() => decodeProducerSnapshot(golden().subarray(0, 9)))
    expectCorrupt(() => decodeProducerSnapshot(new Uint8Array(0)))
  })

  it('rejects a length that disagrees with the entry count, even with a valid CRC', () => {
    const withCrc = (covered: Buffer) => {
      const head = Buffer.alloc(6)
      head.writeInt16BE(1, 0)
      head.writeUInt32BE(bitwiseCrc32c(covered), 2)
      return Buffer.concat([head, covered])
    }
    const covered = hex(ENTRIES_HEX)
    // truncated last entry
    expect(expectCorrupt(() => decodeProducerSnapshot(withCrc(covered.subarray(0, covered.length - 1)))).message).toMatch(/announces 2 entries/)
    // trailing garbage
    expectCorrupt(() => decodeProducerSnapshot(withCrc(Buffer.concat([covered, Buffer.of(0)]))))
    // negative count
    const negative = Buffer.from(covered)
    negative.writeInt32BE(-1, 0)
    expectCorrupt(() => decodeProducerSnapshot(withCrc(negative)))
  })

  it('rejects an int64 beyond 2^53 - 1 instead of rounding it', () => {
    const covered = hex(ENTRIES_HEX)
    covered.writeBigInt64BE(2n ** 53n, 4) // entry A producerId
    const head = Buffer.alloc(6)
    head.writeInt16BE(1, 0)
    head.writeUInt32BE(bitwiseCrc32c(covered), 2)
    expect(expectCorrupt(() => decodeProducerSnapshot(Buffer.concat([head, covered]))).message).toMatch(/producerId/)
  })

  it('refuses to encode values that do not fit their fields (our bug)', () => {
    expect(() => encodeProducerSnapshot([{ ...ENTRY_A, producerEpoch: 40000 }])).toThrow(AssertionError)
    expect(() => encodeProducerSnapshot([{ ...ENTRY_A, lastSequence: 2 ** 31 }])).toThrow(AssertionError)
    expect(() => encodeProducerSnapshot([{ ...ENTRY_A, lastOffset: 2 ** 53 }])).toThrow(AssertionError)
  })
})

/**
 * Checkpoint text files. The golden bytes are the files Kafka writes (kafka-format.md §2.10); the failure
 * cases mirror what Kafka's CheckpointReadBuffer and entry formatters reject, and the accepted oddities
 * (CRLF, trailing blanks, a '+' sign, an empty file) are ones Kafka's reader accepts too.
 */
import { describe, expect, it } from 'vitest'
import {
  decodeLeaderEpochCheckpoint,
  decodeOffsetCheckpoint,
  encodeLeaderEpochCheckpoint,
  encodeOffsetCheckpoint,
} from '../../src/codec/checkpoint'
import { AssertionError } from '../../src/util/assert'
import { expectCorrupt } from '../helpers/errors'

const text = (s: string) => Buffer.from(s, 'utf8')

describe('checkpoint > offset checkpoint', () => {
  it('encodes version 0, the count, and one "topic partition offset" line each, all ending in \\n', () => {
    const buf = encodeOffsetCheckpoint([
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: 'my.topic_x-1', partition: 17, offset: 0 },
    ])
    expect(buf.toString('utf8')).toBe('0\n2\norders 0 42\nmy.topic_x-1 17 0\n')
  })

  it('encodes an empty checkpoint as "0\\n0\\n"', () => {
    expect(encodeOffsetCheckpoint([]).toString('utf8')).toBe('0\n0\n')
    expect(decodeOffsetCheckpoint(text('0\n0\n'))).toEqual([])
  })

  it('round-trips offsets up to 2^53 - 1', () => {
    const entries = [
      { topic: 't', partition: 2147483647, offset: Number.MAX_SAFE_INTEGER },
      { topic: '__consumer_offsets', partition: 49, offset: 123456789012 },
    ]
    expect(decodeOffsetCheckpoint(encodeOffsetCheckpoint(entries))).toEqual(entries)
  })

  it('accepts what Kafka accepts: CRLF and CR line ends, runs of blanks and tabs, trailing blanks, a "+" sign, no final newline', () => {
    expect(decodeOffsetCheckpoint(text('0\r\n1\r\nt \t 3   +7  \r\n'))).toEqual([{ topic: 't', partition: 3, offset: 7 }])
    expect(decodeOffsetCheckpoint(text('0\r1\rt 3 7'))).toEqual([{ topic: 't', partition: 3, offset: 7 }])
  })

  it('reads an empty file, and a file with only the version line, as no entries (Kafka creates them empty)', () => {
    expect(decodeOffsetCheckpoint(new Uint8Array(0))).toEqual([])
    expect(decodeOffsetCheckpoint(text('0\n'))).toEqual([])
  })

  it('rejects a version other than 0', () => {
    const e = expectCorrupt(() => decodeOffsetCheckpoint(text('1\n0\n')))
    expect(e.message).toMatch(/unrecognised version 1/)
  })

  it('rejects a version line that is not an integer, including one with surrounding blanks', () => {
    expect(expectCorrupt(() => decodeOffsetCheckpoint(text('zero\n0\n'))).message).toMatch(/malformed version "zero"/)
    expectCorrupt(() => decodeOffsetCheckpoint(text(' 0\n0\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0 \n0\n')))
  })

  it('rejects a count that does not match the entry lines, in both directions', () => {
    expect(expectCorrupt(() => decodeOffsetCheckpoint(text('0\n2\nt 0 1\n'))).message).toMatch(/announces 2 entries but the file holds 1/)
    expect(expectCorrupt(() => decodeOffsetCheckpoint(text('0\n0\nt 0 1\n'))).message).toMatch(/announces 0 entries but the file holds 1/)
  })

  it('rejects a negative or non-numeric count', () => {
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n-1\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\nmany\n')))
  })

  it('rejects a line with the wrong number of fields, naming the line', () => {
    const e = expectCorrupt(() => decodeOffsetCheckpoint(text('0\n2\nt 0 1\nt 0\n')))
    expect(e.message).toMatch(/malformed line 4: expected 3 whitespace-separated fields, found 2/)
    expect(e.context.line).toBe(4)
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 0 1 9\n')))
  })

  it('rejects a leading blank (Java split yields an empty first field) and an empty line', () => {
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\n t 0 1\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\n\nt 0 1\n')))
  })

  it('rejects a non-integer or out-of-range partition and offset', () => {
    expect(expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt x 1\n'))).message).toMatch(/malformed partition "x"/)
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 2147483648 1\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 0 1.5\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 0 1e3\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 0 9223372036854775808\n')))
  })

  it('rejects an int64 offset that a JS number cannot hold exactly', () => {
    expect(expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt 0 9007199254740992\n'))).message).toMatch(/beyond the 2\^53 - 1/)
  })

  it('uses Java whitespace only: a no-break space is not a separator', () => {
    expectCorrupt(() => decodeOffsetCheckpoint(text('0\n1\nt\u00a00 1\n')))
  })

  it('rejects garbage: invalid UTF-8, a byte-order mark, binary noise', () => {
    expect(expectCorrupt(() => decodeOffsetCheckpoint(Uint8Array.of(0x30, 0x0a, 0xff, 0x0a))).message).toMatch(/UTF-8/)
    expectCorrupt(() => decodeOffsetCheckpoint(text('\ufeff0\n0\n')))
    expectCorrupt(() => decodeOffsetCheckpoint(Uint8Array.of(0, 0, 0, 0)))
  })

  it('refuses to encode a topic containing whitespace or an offset that is not a safe integer (our bug)', () => {
    expect(() => encodeOffsetCheckpoint([{ topic: 'a b', partition: 0, offset: 0 }])).toThrow(AssertionError)
    expect(() => encodeOffsetCheckpoint([{ topic: 't', partition: 0, offset: 2 ** 53 }])).toThrow(AssertionError)
    expect(() => encodeOffsetCheckpoint([{ topic: 't', partition: 1.5, offset: 0 }])).toThrow(AssertionError)
  })
})

describe('checkpoint > leader epoch checkpoint', () => {
  it('encodes the example from kafka-format.md §2.10 byte for byte', () => {
    expect(encodeLeaderEpochCheckpoint([{ epoch: 0, startOffset: 0 }]).toString('utf8')).toBe('0\n1\n0 0\n')
  })

  it('round-trips several epochs', () => {
    const entries = [
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1500 },
      { epoch: 7, startOffset: 90071992547 },
    ]
    expect(decodeLeaderEpochCheckpoint(encodeLeaderEpochCheckpoint(entries))).toEqual(entries)
  })

  it('rejects three fields, a bad version and a short count', () => {
    expectCorrupt(() => decodeLeaderEpochCheckpoint(text('0\n1\n0 0 0\n')))
    expectCorrupt(() => decodeLeaderEpochCheckpoint(text('2\n1\n0 0\n')))
    expectCorrupt(() => decodeLeaderEpochCheckpoint(text('0\n3\n0 0\n1 5\n')))
  })
})

/**
 * __consumer_offsets keys and values, and the consumer protocol. Golden bytes: kafka-format.md §3's examples
 * (hand-annotated hex), values built field by field with kafkajs's protocol Encoder (an independent
 * implementation of Kafka's primitive types, including the compact v4 forms), and kafkajs's own consumer
 * protocol encoder (assignerProtocol.js) for subscription/assignment v0.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  CONSUMER_PROTOCOL_VERSION,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from '../../src/codec/offsets-topic'
import { expectCorrupt } from '../helpers/errors'

interface KafkajsEncoder {
  writeInt8(v: number): KafkajsEncoder
  writeInt16(v: number): KafkajsEncoder
  writeInt32(v: number): KafkajsEncoder
  writeInt64(v: number | string): KafkajsEncoder
  writeString(v: string | null): KafkajsEncoder
  writeBytes(v: Buffer | null): KafkajsEncoder
  writeUVarInt(v: number): KafkajsEncoder
  writeUVarIntString(v: string | null): KafkajsEncoder
  writeUVarIntBytes(v: Buffer | null): KafkajsEncoder
  writeBuffer(v: Buffer): KafkajsEncoder
  readonly buffer: Buffer
}
const require = createRequire(import.meta.url)
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder
const assignerProtocol = require('kafkajs/src/consumer/assignerProtocol.js') as {
  MemberMetadata: {
    encode(m: { version: number; topics: string[]; userData?: Buffer }): Buffer
    decode(b: Buffer): { version: number; topics: string[]; userData: Buffer }
  }
  MemberAssignment: {
    encode(a: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer
    decode(b: Buffer): { version: number; assignment: Record<string, number[]>; userData: Buffer } | null
  }
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
/** Hex with a `# comment` allowed at the end of each line. */
const annotatedHex = (s: string) => hex(s.split('\n').map((line) => line.split('#')[0]).join(''))
const enc = () => new Encoder()

describe('offsets topic > keys', () => {
  const OFFSET_KEY = hex('0001 0008 6d792d67726f7570 0006 6f7264657273 00000003')
  const GROUP_KEY = hex('0002 0008 6d792d67726f7570')

  it('encodes an offset commit key as version 1 (kafka-format.md §3 example)', () => {
    expect(encodeOffsetCommitKey({ group: 'my-group', topic: 'orders', partition: 3 })).toEqual(OFFSET_KEY)
  })

  it('encodes a group metadata key as version 2 (kafka-format.md §3 example)', () => {
    expect(encodeGroupMetadataKey('my-group')).toEqual(GROUP_KEY)
  })

  it('decodes both keys into the tagged union', () => {
    expect(decodeOffsetsTopicKey(OFFSET_KEY)).toEqual({ type: 'offsetCommit', group: 'my-group', topic: 'orders', partition: 3 })
    expect(decodeOffsetsTopicKey(GROUP_KEY)).toEqual({ type: 'groupMetadata', group: 'my-group' })
  })

  it('reads offset commit key version 0, which has the same layout', () => {
    const v0 = enc().writeInt16(0).writeString('g').writeString('t').writeInt32(7).buffer
    expect(decodeOffsetsTopicKey(v0)).toEqual({ type: 'offsetCommit', group: 'g', topic: 't', partition: 7 })
  })

  it('reports KIP-848 and share-group record types, and negative versions, as unknown', () => {
    for (const version of [3, 8, 15, 16, -1]) {
      expect(decodeOffsetsTopicKey(enc().writeInt16(version).writeString('g').buffer)).toEqual({ type: 'unknown', version })
    }
  })

  it('keeps non-ASCII names intact', () => {
    const key = encodeOffsetCommitKey({ group: 'groupé', topic: 't', partition: 0 })
    expect(key.readInt16BE(2)).toBe(7) // "groupé" is 7 UTF-8 bytes
    expect(decodeOffsetsTopicKey(key)).toMatchObject({ group: 'groupé' })
  })

  it('rejects a key too short for its version, truncated, null-named, or with trailing bytes', () => {
    expectCorrupt(() => decodeOffsetsTopicKey(Uint8Array.of(0)))
    expectCorrupt(() => decodeOffsetsTopicKey(OFFSET_KEY.subarray(0, OFFSET_KEY.length - 1)))
    expectCorrupt(() => decodeOffsetsTopicKey(enc().writeInt16(2).writeString(null).buffer))
    const e = expectCorrupt(() => decodeOffsetsTopicKey(Buffer.concat([GROUP_KEY, Buffer.of(0)])))
    expect(e.message).toMatch(/GroupMetadataKey v2: 1 trailing bytes/)
  })
})

describe('offsets topic > OffsetCommitValue', () => {
  const V3 = hex('0003 000000000000002a ffffffff 0000 0000018bcfe56800')

  it('encodes v3 when there is no expire timestamp (kafka-format.md §3 example)', () => {
    expect(encodeOffsetCommitValue({ offset: 42, metadata: '', commitTimestamp: 1700000000000 })).toEqual(V3)
    expect(
      encodeOffsetCommitValue({ offset: 42, leaderEpoch: -1, metadata: '', commitTimestamp: 1700000000000, expireTimestamp: -1 }),
    ).toEqual(V3)
  })

  it('decodes the v3 example', () => {
    expect(decodeOffsetCommitValue(V3)).toEqual({
      version: 3,
      offset: 42,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1700000000000,
      expireTimestamp: -1,
    })
  })

  it('encodes v3 with a leader epoch and metadata, matching an independent encoder', () => {
    const expected = enc().writeInt16(3).writeInt64(1234).writeInt32(5).writeString('meta').writeInt64(1700000000001).buffer
    const value = { offset: 1234, leaderEpoch: 5, metadata: 'meta', commitTimestamp: 1700000000001 }
    expect(encodeOffsetCommitValue(value)).toEqual(expected)
    expect(decodeOffsetCommitValue(expected)).toEqual({ ...value, version: 3, expireTimestamp: -1 })
  })

  it('encodes v1, without the leader epoch, when an expire timestamp is given (as Kafka does)', () => {
    const expected = enc().writeInt16(1).writeInt64(10).writeString('m').writeInt64(1000).writeInt64(2000).buffer
    expect(encodeOffsetCommitValue({ offset: 10, leaderEpoch: 9, metadata: 'm', commitTimestamp: 1000, expireTimestamp: 2000 })).toEqual(expected)
    expect(decodeOffsetCommitValue(expected)).toEqual({
      version: 1,
      offset: 10,
      leaderEpoch: -1,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    })
  })

  it('decodes v0 and v2 with the absent fields at their defaults', () => {
    for (const version of [0, 2]) {
      const buf = enc().writeInt16(version).writeInt64(77).writeString('x').writeInt64(5).buffer
      expect(decodeOffsetCommitValue(buf)).toEqual({
        version,
        offset: 77,
        leaderEpoch: -1,
        metadata: 'x',
        commitTimestamp: 5,
        expireTimestamp: -1,
      })
    }
  })

  it('decodes flexible v4, skipping unknown tagged fields', () => {
    const noTags = enc().writeInt16(4).writeInt64(99).writeInt32(2).writeUVarIntString('hello').writeInt64(1700000000000).writeUVarInt(0).buffer
    expect(decodeOffsetCommitValue(noTags)).toEqual({
      version: 4,
      offset: 99,
      leaderEpoch: 2,
      metadata: 'hello',
      commitTimestamp: 1700000000000,
      expireTimestamp: -1,
    })
    const withTags = enc()
      .writeInt16(4)
      .writeInt64(99)
      .writeInt32(2)
      .writeUVarIntString('')
      .writeInt64(7)
      .writeUVarInt(2) // two tagged fields
      .writeUVarInt(0)
      .writeUVarInt(3)
      .writeBuffer(Buffer.of(1, 2, 3))
      .writeUVarInt(200) // a tag number that needs two varint bytes
      .writeUVarInt(0)
      .buffer
    expect(decodeOffsetCommitValue(withTags)).toMatchObject({ version: 4, offset: 99, metadata: '', commitTimestamp: 7 })
  })

  it('rejects v4 whose tagged field overruns the value, and a compact string marked null', () => {
    const overrun = enc().writeInt16(4).writeInt64(1).writeInt32(0).writeUVarIntString('').writeInt64(1).writeUVarInt(1).writeUVarInt(0).writeUVarInt(9).buffer
    expectCorrupt(() => decodeOffsetCommitValue(overrun))
    const nullMetadata = enc().writeInt16(4).writeInt64(1).writeInt32(0).writeUVarInt(0).writeInt64(1).writeUVarInt(0).buffer
    expect(expectCorrupt(() => decodeOffsetCommitValue(nullMetadata)).message).toMatch(/non-nullable string/)
  })

  it('rejects versions it does not know, naming the version', () => {
    for (const version of [5, 100, -1]) {
      const e = expectCorrupt(() => decodeOffsetCommitValue(enc().writeInt16(version).writeInt64(1).buffer))
      expect(e.message).toMatch(new RegExp(`version ${version} is not supported`))
      expect(e.context.version).toBe(version)
    }
  })

  it('rejects a truncated value and trailing bytes', () => {
    expectCorrupt(() => decodeOffsetCommitValue(V3.subarray(0, V3.length - 1)))
    expectCorrupt(() => decodeOffsetCommitValue(Buffer.concat([V3, Buffer.of(0, 0)])))
  })

  it('rejects a string length larger than what remains', () => {
    const buf = enc().writeInt16(3).writeInt64(1).writeInt32(-1).writeInt16(100).buffer
    expect(expectCorrupt(() => decodeOffsetCommitValue(buf)).message).toMatch(/needs 100 bytes/)
  })

  it('rejects an offset beyond 2^53 - 1 instead of rounding it', () => {
    const buf = hex('0003 0020000000000000 ffffffff 0000 0000018bcfe56800')
    expect(expectCorrupt(() => decodeOffsetCommitValue(buf)).message).toMatch(/beyond 2\^53 - 1/)
  })
})

describe('offsets topic > GroupMetadataValue', () => {
  const VALUE: GroupMetadataValue = {
    protocolType: 'consumer',
    generation: 5,
    protocol: 'range',
    leader: 'm-1',
    currentStateTimestamp: 1700000000000,
    members: [
      {
        memberId: 'm-1',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: '/127.0.0.1',
        rebalanceTimeout: 300000,
        sessionTimeout: 45000,
        subscription: Buffer.of(1, 2, 3, 4),
        assignment: Buffer.alloc(0),
      },
    ],
  }
  const V3 = annotatedHex(`
    0003
    0008 636f6e73756d6572          # protocolType "consumer"
    00000005                       # generation 5
    0005 72616e6765                # protocol "range"
    0003 6d2d31                    # leader "m-1"
    0000018bcfe56800               # currentStateTimestamp 1700000000000
    00000001                       # 1 member
      0003 6d2d31                  # memberId "m-1"
      ffff                         # groupInstanceId null
      0001 63                      # clientId "c"
      000a 2f3132372e302e302e31    # clientHost "/127.0.0.1"
      000493e0                     # rebalanceTimeout 300000
      0000afc8                     # sessionTimeout 45000
      00000004 01020304            # subscription
      00000000                     # assignment (empty)
  `)

  it('the hand-annotated golden matches an independent encoder', () => {
    const expected = enc()
      .writeInt16(3)
      .writeString('consumer')
      .writeInt32(5)
      .writeString('range')
      .writeString('m-1')
      .writeInt64(1700000000000)
      .writeInt32(1)
      .writeString('m-1')
      .writeString(null)
      .writeString('c')
      .writeString('/127.0.0.1')
      .writeInt32(300000)
      .writeInt32(45000)
      .writeBytes(Buffer.of(1, 2, 3, 4))
      .writeBytes(Buffer.alloc(0)).buffer
    expect(V3.toString('hex')).toBe(expected.toString('hex'))
  })

  it('encodes v3 byte for byte', () => {
    expect(encodeGroupMetadataValue(VALUE).toString('hex')).toBe(V3.toString('hex'))
  })

  it('decodes v3', () => {
    expect(decodeGroupMetadataValue(V3)).toEqual({ ...VALUE, version: 3 })
  })

  it('round-trips an empty group with no protocol and no leader, and a static member', () => {
    const empty: GroupMetadataValue = { protocolType: 'consumer', generation: 0, protocol: null, leader: null, currentStateTimestamp: -1, members: [] }
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(empty))).toEqual({ ...empty, version: 3 })
    const staticMember = { ...VALUE, members: [{ ...VALUE.members[0]!, groupInstanceId: 'instance-1' }] }
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(staticMember))).toEqual({ ...staticMember, version: 3 })
  })

  it('decodes v0 (no rebalanceTimeout, no timestamp), v1 and v2 with defaults for absent fields', () => {
    const member = (e: KafkajsEncoder, version: number) => {
      e.writeString('m-1')
      if (version >= 3) e.writeString(null)
      e.writeString('c').writeString('/127.0.0.1')
      if (version >= 1) e.writeInt32(300000)
      return e.writeInt32(45000).writeBytes(Buffer.of(1, 2, 3, 4)).writeBytes(Buffer.alloc(0))
    }
    for (const version of [0, 1, 2]) {
      const e = enc().writeInt16(version).writeString('consumer').writeInt32(5).writeString('range').writeString('m-1')
      if (version >= 2) e.writeInt64(1700000000000)
      member(e.writeInt32(1), version)
      expect(decodeGroupMetadataValue(e.buffer)).toEqual({
        ...VALUE,
        version,
        currentStateTimestamp: version >= 2 ? 1700000000000 : -1,
        members: [{ ...VALUE.members[0]!, rebalanceTimeout: version >= 1 ? 300000 : -1 }],
      })
    }
  })

  it('decodes flexible v4 with compact fields and tagged sections after each member and the value', () => {
    const v4 = enc()
      .writeInt16(4)
      .writeUVarIntString('consumer')
      .writeInt32(5)
      .writeUVarIntString('range')
      .writeUVarIntString('m-1')
      .writeInt64(1700000000000)
      .writeUVarInt(2) // 1 member
      .writeUVarIntString('m-1')
      .writeUVarIntString(null)
      .writeUVarIntString('c')
      .writeUVarIntString('/127.0.0.1')
      .writeInt32(300000)
      .writeInt32(45000)
      .writeUVarIntBytes(Buffer.of(1, 2, 3, 4))
      .writeUVarIntBytes(Buffer.alloc(0))
      .writeUVarInt(1) // member: one unknown tagged field
      .writeUVarInt(5)
      .writeUVarInt(1)
      .writeBuffer(Buffer.of(0xaa))
      .writeUVarInt(0).buffer // value: no tagged fields
    expect(decodeGroupMetadataValue(v4)).toEqual({ ...VALUE, version: 4 })
  })

  it('rejects an unknown version, a null member list, a member count beyond the data, and trailing bytes', () => {
    expectCorrupt(() => decodeGroupMetadataValue(enc().writeInt16(5).buffer))
    const nullMembers = enc().writeInt16(3).writeString('consumer').writeInt32(1).writeString(null).writeString(null).writeInt64(-1).writeInt32(-1).buffer
    expect(expectCorrupt(() => decodeGroupMetadataValue(nullMembers)).message).toMatch(/non-nullable array/)
    const hugeCount = enc().writeInt16(3).writeString('consumer').writeInt32(1).writeString(null).writeString(null).writeInt64(-1).writeInt32(0x7fffffff).buffer
    expect(expectCorrupt(() => decodeGroupMetadataValue(hugeCount)).message).toMatch(/cannot fit/)
    expectCorrupt(() => decodeGroupMetadataValue(Buffer.concat([V3, Buffer.of(1)])))
  })

  it('copies member bytes out of the input buffer', () => {
    const input = Buffer.from(V3)
    const decoded = decodeGroupMetadataValue(input)
    input.fill(0)
    expect(decoded.members[0]!.subscription).toEqual(Buffer.of(1, 2, 3, 4))
  })
})

describe('offsets topic > consumer protocol', () => {
  it('writes version 3 by default, the highest Kafka defines', () => {
    expect(CONSUMER_PROTOCOL_VERSION).toBe(3)
    expect(encodeConsumerProtocolSubscription({ topics: ['a'] }).readInt16BE(0)).toBe(3)
  })

  it('subscription v0 matches kafkajs byte for byte, and each decodes the other', () => {
    const ours = encodeConsumerProtocolSubscription({ topics: ['orders', 'payments'], userData: Buffer.alloc(0) }, 0)
    const theirs = assignerProtocol.MemberMetadata.encode({ version: 0, topics: ['orders', 'payments'] })
    expect(ours.toString('hex')).toBe(theirs.toString('hex'))
    expect(assignerProtocol.MemberMetadata.decode(ours)).toEqual({ version: 0, topics: ['orders', 'payments'], userData: Buffer.alloc(0) })
    expect(decodeConsumerProtocolSubscription(theirs)).toEqual({
      version: 0,
      topics: ['orders', 'payments'],
      userData: Buffer.alloc(0),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    })
  })

  it('assignment v0 matches kafkajs byte for byte, and each decodes the other', () => {
    const assignment = { orders: [0, 2, 4], payments: [1] }
    const theirs = assignerProtocol.MemberAssignment.encode({ version: 0, assignment })
    const ours = encodeConsumerProtocolAssignment(
      { assignedPartitions: [{ topic: 'orders', partitions: [0, 2, 4] }, { topic: 'payments', partitions: [1] }], userData: Buffer.alloc(0) },
      0,
    )
    expect(ours.toString('hex')).toBe(theirs.toString('hex'))
    expect(assignerProtocol.MemberAssignment.decode(ours)).toEqual({ version: 0, assignment, userData: Buffer.alloc(0) })
    expect(decodeConsumerProtocolAssignment(theirs)).toEqual({
      version: 0,
      assignedPartitions: [
        { topic: 'orders', partitions: [0, 2, 4] },
        { topic: 'payments', partitions: [1] },
      ],
      userData: Buffer.alloc(0),
    })
  })

  it('subscription v1 adds owned partitions; null user data is -1', () => {
    const buf = encodeConsumerProtocolSubscription({ topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [3, 1] }] }, 1)
    const expected = enc().writeInt16(1).writeInt32(1).writeString('t').writeBytes(null).writeInt32(1).writeString('t').writeInt32(2).writeInt32(3).writeInt32(1).buffer
    expect(buf.toString('hex')).toBe(expected.toString('hex'))
    expect(decodeConsumerProtocolSubscription(buf)).toEqual({
      version: 1,
      topics: ['t'],
      userData: null,
      ownedPartitions: [{ topic: 't', partitions: [3, 1] }],
      generationId: -1,
      rackId: null,
    })
  })

  it('round-trips subscription v2 and v3 with generation and rack', () => {
    const sub = { topics: ['a', 'b'], userData: Buffer.of(9), ownedPartitions: [{ topic: 'a', partitions: [0] }], generationId: 12, rackId: 'rack-1' }
    expect(decodeConsumerProtocolSubscription(encodeConsumerProtocolSubscription(sub, 3))).toEqual({ ...sub, version: 3 })
    expect(decodeConsumerProtocolSubscription(encodeConsumerProtocolSubscription(sub, 2))).toEqual({ ...sub, version: 2, rackId: null })
  })

  it('drops fields newer than the requested version, as Kafka drops ignorable fields', () => {
    const sub = { topics: ['a'], ownedPartitions: [{ topic: 'a', partitions: [0] }], generationId: 3, rackId: 'r' }
    expect(decodeConsumerProtocolSubscription(encodeConsumerProtocolSubscription(sub, 0))).toMatchObject({ ownedPartitions: [], generationId: -1, rackId: null })
  })

  it('reads a version above 3 as v3 and ignores the fields appended after it (Kafka’s forward-compatibility rule)', () => {
    const v3 = encodeConsumerProtocolSubscription({ topics: ['a'], generationId: 4, rackId: 'r' }, 3)
    const future = Buffer.concat([v3, Buffer.of(0xde, 0xad)])
    future.writeInt16BE(7, 0)
    expect(decodeConsumerProtocolSubscription(future)).toMatchObject({ version: 7, topics: ['a'], generationId: 4, rackId: 'r' })
    const assignment = Buffer.concat([encodeConsumerProtocolAssignment({ assignedPartitions: [] }, 3), Buffer.of(1, 2, 3)])
    assignment.writeInt16BE(9, 0)
    expect(decodeConsumerProtocolAssignment(assignment)).toEqual({ version: 9, assignedPartitions: [], userData: null })
  })

  it('rejects a negative version and truncated data', () => {
    const neg = encodeConsumerProtocolSubscription({ topics: [] }, 0)
    neg.writeInt16BE(-1, 0)
    expectCorrupt(() => decodeConsumerProtocolSubscription(neg))
    const full = encodeConsumerProtocolAssignment({ assignedPartitions: [{ topic: 'orders', partitions: [1, 2] }] })
    expectCorrupt(() => decodeConsumerProtocolAssignment(full.subarray(0, full.length - 3)))
    expectCorrupt(() => decodeConsumerProtocolAssignment(Uint8Array.of(0)))
  })
})

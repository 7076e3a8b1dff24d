/**
 * Record keys and values of the internal `__consumer_offsets` topic, and the consumer protocol's
 * subscription and assignment that group metadata carries for each member (kafka-format.md §3; Kafka
 * `group-coordinator/src/main/resources/common/message/*.json`, `CoordinatorRecordSerde`,
 * `clients/src/main/resources/common/message/ConsumerProtocol{Subscription,Assignment}.json`, `ConsumerProtocol`).
 *
 * Framing. A record key is `int16 keyVersion` then the key struct; a value is `int16 valueVersion` then the
 * value struct. The key version is also the record type. A null value (a tombstone) deletes an offset or a
 * group; the value decoders here take only non-null values, and the caller handles tombstones.
 *
 * | key version | record type          | key fields                                   |
 * |-------------|----------------------|----------------------------------------------|
 * | 0, 1        | offset commit        | group: string, topic: string, partition: int32 |
 * | 2           | group metadata       | group: string                                |
 * | 3-15        | KIP-848 / share groups (not decoded: reported as `unknown`)          |
 *
 * OffsetCommitValue (writers emit v3, or v1 when an expire timestamp is set, as Kafka's
 * `MetadataVersion.offsetCommitValueVersion` does; v1 has no leaderEpoch, so it is dropped):
 *
 * | version | fields                                                                       |
 * |---------|------------------------------------------------------------------------------|
 * | 0, 2    | offset int64, metadata string, commitTimestamp int64                         |
 * | 1       | offset int64, metadata string, commitTimestamp int64, expireTimestamp int64  |
 * | 3       | offset int64, leaderEpoch int32, metadata string, commitTimestamp int64      |
 * | 4       | as v3, flexible encoding, then tagged fields                                 |
 *
 * GroupMetadataValue (writers emit v3):
 *
 * | field                 | type            | versions | default when absent |
 * |-----------------------|-----------------|----------|---------------------|
 * | protocolType          | string          | 0+       |                     |
 * | generation            | int32           | 0+       |                     |
 * | protocol              | nullable string | 0+       |                     |
 * | leader                | nullable string | 0+       |                     |
 * | currentStateTimestamp | int64           | 2+       | -1                  |
 * | members               | [MemberMetadata]| 0+       |                     |
 * | - memberId            | string          | 0+       |                     |
 * | - groupInstanceId     | nullable string | 3+       | null                |
 * | - clientId            | string          | 0+       |                     |
 * | - clientHost          | string          | 0+       |                     |
 * | - rebalanceTimeout    | int32           | 1+       | -1 (Kafka's replay then uses sessionTimeout) |
 * | - sessionTimeout      | int32           | 0+       |                     |
 * | - subscription        | bytes           | 0+       | (ConsumerProtocolSubscription when protocolType is "consumer") |
 * | - assignment          | bytes           | 0+       | (ConsumerProtocolAssignment when protocolType is "consumer")   |
 * | (v4: tagged fields after each member and after the value)                       |
 *
 * Primitive encodings. Non-flexible: string = int16 length + UTF-8 (-1 = null), bytes = int32 length
 * (-1 = null), array = int32 count. Flexible (v4): compact string/bytes/array = uvarint(length + 1) with 0 =
 * null, and every struct ends with a tagged-field section: uvarint count, then per field uvarint tag, uvarint
 * size and the bytes. These schemas define no tagged fields, so all are skipped.
 *
 * Strictness. A key or value of a known version must be consumed exactly; trailing bytes are reported as
 * corrupt (Kafka's generated reader would ignore them, but no Kafka writer produces them). The consumer
 * protocol is the exception, by Kafka's own rule: it promises that newer versions only append fields, so a
 * version above 3 is read as v3 and any bytes after the known fields are ignored.
 *
 * Numbers: int64 fields are read as BigInt and handed out as numbers only when they fit in 2^53 - 1.
 */
import { CorruptRecordError } from '../errors/index'
import { assert } from '../util/assert'
import type { Offset, TimestampMs } from '../util/types'

// ---------------------------------------------------------------------------------------------------------
// Keys

export const OFFSET_COMMIT_KEY_VERSION = 1
export const GROUP_METADATA_KEY_VERSION = 2

export type OffsetsTopicKey =
  | { readonly type: 'offsetCommit'; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly type: 'groupMetadata'; readonly group: string }
  | { readonly type: 'unknown'; readonly version: number }

export interface OffsetCommitKey {
  readonly group: string
  readonly topic: string
  readonly partition: number
}

export function encodeOffsetCommitKey(key: OffsetCommitKey): Buffer {
  return new SchemaWriter()
    .int16(OFFSET_COMMIT_KEY_VERSION)
    .string(key.group)
    .string(key.topic)
    .int32(key.partition)
    .finish()
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return new SchemaWriter().int16(GROUP_METADATA_KEY_VERSION).string(group).finish()
}

/** Decodes any `__consumer_offsets` key. Record types this module does not model come back as `unknown`. */
export function decodeOffsetsTopicKey(buf: Uint8Array): OffsetsTopicKey {
  const version = readVersion(buf, 'key')
  if (version === 0 || version === 1) {
    const r = new SchemaReader(buf, 'OffsetCommitKey', version, false)
    const key = { type: 'offsetCommit' as const, group: r.string(), topic: r.string(), partition: r.int32() }
    r.end()
    return key
  }
  if (version === 2) {
    const r = new SchemaReader(buf, 'GroupMetadataKey', version, false)
    const key = { type: 'groupMetadata' as const, group: r.string() }
    r.end()
    return key
  }
  return { type: 'unknown', version }
}

// ---------------------------------------------------------------------------------------------------------
// OffsetCommitValue

const OFFSET_COMMIT_VALUE_MAX_VERSION = 4

export interface OffsetCommitValue {
  readonly offset: Offset
  /** The leader epoch of the committed record, -1 when unknown (always -1 for v0-v2). */
  readonly leaderEpoch: number
  readonly metadata: string
  readonly commitTimestamp: TimestampMs
  /** Only v1 carries it; -1 when absent. */
  readonly expireTimestamp: TimestampMs
}

export interface DecodedOffsetCommitValue extends OffsetCommitValue {
  readonly version: number
}

export type OffsetCommitValueInput = Omit<OffsetCommitValue, 'leaderEpoch' | 'expireTimestamp'> &
  Partial<Pick<OffsetCommitValue, 'leaderEpoch' | 'expireTimestamp'>>

/** Writes v3, or v1 when `expireTimestamp` is set (not -1); v1 cannot carry `leaderEpoch`. */
export function encodeOffsetCommitValue(value: OffsetCommitValueInput): Buffer {
  const expireTimestamp = value.expireTimestamp ?? -1
  const w = new SchemaWriter()
  if (expireTimestamp !== -1) {
    return w.int16(1).int64(value.offset).string(value.metadata).int64(value.commitTimestamp).int64(expireTimestamp).finish()
  }
  return w
    .int16(3)
    .int64(value.offset)
    .int32(value.leaderEpoch ?? -1)
    .string(value.metadata)
    .int64(value.commitTimestamp)
    .finish()
}

export function decodeOffsetCommitValue(buf: Uint8Array): DecodedOffsetCommitValue {
  const version = readVersion(buf, 'OffsetCommitValue')
  checkValueVersion('OffsetCommitValue', version, OFFSET_COMMIT_VALUE_MAX_VERSION)
  const r = new SchemaReader(buf, 'OffsetCommitValue', version, version >= 4)
  const offset = r.int64()
  const leaderEpoch = version >= 3 ? r.int32() : -1
  const metadata = r.string()
  const commitTimestamp = r.int64()
  const expireTimestamp = version === 1 ? r.int64() : -1
  r.taggedFields()
  r.end()
  return { version, offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp }
}

// ---------------------------------------------------------------------------------------------------------
// GroupMetadataValue

export const GROUP_METADATA_VALUE_VERSION = 3
const GROUP_METADATA_VALUE_MAX_VERSION = 4

export interface GroupMemberMetadata {
  readonly memberId: string
  /** Static membership id (v3+); null for dynamic members. */
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  /** -1 when absent (v0); Kafka's replay then uses `sessionTimeout`. */
  readonly rebalanceTimeout: number
  readonly sessionTimeout: number
  /** Opaque; a ConsumerProtocolSubscription when the group's protocolType is "consumer". */
  readonly subscription: Buffer
  /** Opaque; a ConsumerProtocolAssignment when the group's protocolType is "consumer". */
  readonly assignment: Buffer
}

export interface GroupMetadataValue {
  readonly protocolType: string
  readonly generation: number
  readonly protocol: string | null
  readonly leader: string | null
  /** -1 when absent (v0, v1) or unknown. */
  readonly currentStateTimestamp: TimestampMs
  readonly members: readonly GroupMemberMetadata[]
}

export interface DecodedGroupMetadataValue extends GroupMetadataValue {
  readonly version: number
}

/** Writes v3, the version Kafka writes. */
export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  return new SchemaWriter()
    .int16(GROUP_METADATA_VALUE_VERSION)
    .string(value.protocolType)
    .int32(value.generation)
    .nullableString(value.protocol)
    .nullableString(value.leader)
    .int64(value.currentStateTimestamp)
    .array(value.members, (w, m) =>
      w
        .string(m.memberId)
        .nullableString(m.groupInstanceId)
        .string(m.clientId)
        .string(m.clientHost)
        .int32(m.rebalanceTimeout)
        .int32(m.sessionTimeout)
        .bytes(m.subscription)
        .bytes(m.assignment),
    )
    .finish()
}

export function decodeGroupMetadataValue(buf: Uint8Array): DecodedGroupMetadataValue {
  const version = readVersion(buf, 'GroupMetadataValue')
  checkValueVersion('GroupMetadataValue', version, GROUP_METADATA_VALUE_MAX_VERSION)
  const r = new SchemaReader(buf, 'GroupMetadataValue', version, version >= 4)
  const protocolType = r.string()
  const generation = r.int32()
  const protocol = r.nullableString()
  const leader = r.nullableString()
  const currentStateTimestamp = version >= 2 ? r.int64() : -1
  const members = r.array((): GroupMemberMetadata => {
    const memberId = r.string()
    const groupInstanceId = version >= 3 ? r.nullableString() : null
    const clientId = r.string()
    const clientHost = r.string()
    const rebalanceTimeout = version >= 1 ? r.int32() : -1
    const sessionTimeout = r.int32()
    const subscription = r.bytes()
    const assignment = r.bytes()
    r.taggedFields()
    return { memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription, assignment }
  })
  r.taggedFields()
  r.end()
  return { version, protocolType, generation, protocol, leader, currentStateTimestamp, members }
}

// ---------------------------------------------------------------------------------------------------------
// Consumer protocol (the "consumer" protocolType's member subscription and assignment)

/** The highest consumer protocol version this module writes and understands; Kafka's clients write it too. */
export const CONSUMER_PROTOCOL_VERSION = 3

export interface TopicPartitions {
  readonly topic: string
  readonly partitions: readonly number[]
}

/**
 * | field           | type                          | versions |
 * |-----------------|-------------------------------|----------|
 * | topics          | [string]                      | 0+       |
 * | userData        | nullable bytes                | 0+       |
 * | ownedPartitions | [topic: string, partitions: [int32]] | 1+ |
 * | generationId    | int32 (default -1)            | 2+       |
 * | rackId          | nullable string (default null)| 3+       |
 */
export interface ConsumerProtocolSubscription {
  readonly topics: readonly string[]
  readonly userData: Buffer | null
  readonly ownedPartitions: readonly TopicPartitions[]
  readonly generationId: number
  readonly rackId: string | null
}

/**
 * | field              | type                                  | versions |
 * |--------------------|---------------------------------------|----------|
 * | assignedPartitions | [topic: string, partitions: [int32]]  | 0+       |
 * | userData           | nullable bytes                        | 0+       |
 */
export interface ConsumerProtocolAssignment {
  readonly assignedPartitions: readonly TopicPartitions[]
  readonly userData: Buffer | null
}

export type ConsumerProtocolSubscriptionInput = Pick<ConsumerProtocolSubscription, 'topics'> &
  Partial<Omit<ConsumerProtocolSubscription, 'topics'>>

/**
 * Writes a version-prefixed subscription. Fields newer than `version` are dropped, as Kafka drops its
 * "ignorable" fields. Kafka's client sorts `topics` and groups `ownedPartitions` by topic before encoding;
 * this codec writes them in the order given.
 */
export function encodeConsumerProtocolSubscription(
  subscription: ConsumerProtocolSubscriptionInput,
  version: number = CONSUMER_PROTOCOL_VERSION,
): Buffer {
  assert(Number.isInteger(version) && version >= 0 && version <= CONSUMER_PROTOCOL_VERSION, `unsupported subscription version ${version}`)
  const w = new SchemaWriter()
    .int16(version)
    .array(subscription.topics, (w, t) => w.string(t))
    .nullableBytes(subscription.userData ?? null)
  if (version >= 1) w.array(subscription.ownedPartitions ?? [], writeTopicPartitions)
  if (version >= 2) w.int32(subscription.generationId ?? -1)
  if (version >= 3) w.nullableString(subscription.rackId ?? null)
  return w.finish()
}

export function decodeConsumerProtocolSubscription(buf: Uint8Array): ConsumerProtocolSubscription & { readonly version: number } {
  const version = readVersion(buf, 'ConsumerProtocolSubscription')
  if (version < 0) throw corrupt('ConsumerProtocolSubscription', version, `unsupported version ${version}`)
  const r = new SchemaReader(buf, 'ConsumerProtocolSubscription', version, false)
  const topics = r.array(() => r.string())
  const userData = r.nullableBytes()
  const ownedPartitions = version >= 1 ? r.array(() => readTopicPartitions(r)) : []
  const generationId = version >= 2 ? r.int32() : -1
  const rackId = version >= 3 ? r.nullableString() : null
  return { version, topics, userData, ownedPartitions, generationId, rackId }
}

/** Writes a version-prefixed assignment; versions 0-3 share one layout. */
export function encodeConsumerProtocolAssignment(
  assignment: Pick<ConsumerProtocolAssignment, 'assignedPartitions'> & Partial<ConsumerProtocolAssignment>,
  version: number = CONSUMER_PROTOCOL_VERSION,
): Buffer {
  assert(Number.isInteger(version) && version >= 0 && version <= CONSUMER_PROTOCOL_VERSION, `unsupported assignment version ${version}`)
  return new SchemaWriter()
    .int16(version)
    .array(assignment.assignedPartitions, writeTopicPartitions)
    .nullableBytes(assignment.userData ?? null)
    .finish()
}

export function decodeConsumerProtocolAssignment(buf: Uint8Array): ConsumerProtocolAssignment & { readonly version: number } {
  const version = readVersion(buf, 'ConsumerProtocolAssignment')
  if (version < 0) throw corrupt('ConsumerProtocolAssignment', version, `unsupported version ${version}`)
  const r = new SchemaReader(buf, 'ConsumerProtocolAssignment', version, false)
  const assignedPartitions = r.array(() => readTopicPartitions(r))
  const userData = r.nullableBytes()
  return { version, assignedPartitions, userData }
}

function writeTopicPartitions(w: SchemaWriter, tp: TopicPartitions): SchemaWriter {
  return w.string(tp.topic).array(tp.partitions, (w, p) => w.int32(p))
}

function readTopicPartitions(r: SchemaReader): TopicPartitions {
  return { topic: r.string(), partitions: r.array(() => r.int32()) }
}

// ---------------------------------------------------------------------------------------------------------
// Primitives

function readVersion(buf: Uint8Array, what: string): number {
  if (buf.length < 2) throw corrupt(what, null, `${buf.length} bytes is too short for the int16 version`)
  return ((buf[0]! << 8) | buf[1]!) << 16 >> 16
}

function checkValueVersion(what: string, version: number, max: number): void {
  if (version < 0 || version > max) throw corrupt(what, version, `version ${version} is not supported (known: 0-${max})`)
}

function corrupt(what: string, version: number | null, problem: string, position?: number): CorruptRecordError {
  const where = position === undefined ? '' : ` at byte ${position}`
  const label = version === null ? what : `${what} v${version}`
  return new CorruptRecordError(`${label}: ${problem}${where}`, { record: what, version, position })
}

/**
 * Reads one struct of a known version. `flexible` switches strings, bytes and arrays to their compact forms
 * and makes `taggedFields()` consume a tagged-field section (it is a no-op otherwise).
 */
class SchemaReader {
  private readonly buf: Buffer
  private pos = 2 // after the version

  constructor(
    input: Uint8Array,
    private readonly what: string,
    private readonly version: number,
    private readonly flexible: boolean,
  ) {
    this.buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  }

  int32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64(): number {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.pos)
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.fail(`int64 ${v} is beyond 2^53 - 1`)
    }
    this.pos += 8
    return Number(v)
  }

  string(): string {
    const s = this.nullableString()
    if (s === null) throw this.fail('a non-nullable string was serialized as null')
    return s
  }

  nullableString(): string | null {
    const length = this.flexible ? this.uvarint() - 1 : this.int16()
    if (length === -1) return null
    if (length < -1) throw this.fail(`negative string length ${length}`)
    this.need(length)
    const s = this.buf.toString('utf8', this.pos, this.pos + length)
    this.pos += length
    return s
  }

  bytes(): Buffer {
    const b = this.nullableBytes()
    if (b === null) throw this.fail('non-nullable bytes were serialized as null')
    return b
  }

  /** Copies the bytes out, so that the result does not pin the (possibly large) record batch buffer. */
  nullableBytes(): Buffer | null {
    const length = this.flexible ? this.uvarint() - 1 : this.int32()
    if (length === -1) return null
    if (length < -1) throw this.fail(`negative bytes length ${length}`)
    this.need(length)
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + length))
    this.pos += length
    return b
  }

  array<T>(readItem: () => T): T[] {
    const count = this.flexible ? this.uvarint() - 1 : this.int32()
    if (count === -1) throw this.fail('a non-nullable array was serialized as null')
    if (count < -1) throw this.fail(`negative array length ${count}`)
    // Every item takes at least one byte, so a count beyond the remaining bytes is corrupt, and checking it
    // first keeps a damaged count from driving a huge loop.
    if (count > this.buf.length - this.pos) throw this.fail(`array of ${count} items cannot fit in ${this.buf.length - this.pos} bytes`)
    const items: T[] = []
    for (let i = 0; i < count; i++) items.push(readItem())
    return items
  }

  taggedFields(): void {
    if (!this.flexible) return
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint() // tag: none is defined for these schemas, so each is skipped
      const size = this.uvarint()
      this.need(size)
      this.pos += size
    }
  }

  end(): void {
    if (this.pos !== this.buf.length) throw this.fail(`${this.buf.length - this.pos} trailing bytes`)
  }

  private int16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  /** Unsigned LEB128 as Kafka's `ByteUtils.readUnsignedVarint`: at most 5 bytes, an int32 result. */
  private uvarint(): number {
    let value = 0
    for (let i = 0; i < 5; i++) {
      this.need(1)
      const b = this.buf[this.pos++]!
      value += (b & 0x7f) * 2 ** (7 * i)
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw this.fail('unsigned varint overflows 32 bits')
        return value
      }
    }
    throw this.fail('unsigned varint longer than 5 bytes')
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail(`needs ${n} bytes but only ${this.buf.length - this.pos} remain`)
  }

  private fail(problem: string): CorruptRecordError {
    return corrupt(this.what, this.version, problem, this.pos)
  }
}

const INT16_MAX = 0x7fff

/** Writes non-flexible structs (kafkalite writes no flexible version). Values come from kafkalite's own state, so a misfit is an assertion failure. */
class SchemaWriter {
  private readonly chunks: Buffer[] = []

  int16(v: number): this {
    assert(Number.isInteger(v) && v >= -0x8000 && v <= INT16_MAX, `${v} is not an int16`)
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    return this.push(b)
  }

  int32(v: number): this {
    assert(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31, `${v} is not an int32`)
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    return this.push(b)
  }

  int64(v: number): this {
    assert(Number.isSafeInteger(v), `${v} is not a safe integer`)
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt(v))
    return this.push(b)
  }

  string(s: string): this {
    return this.nullableString(s)
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1)
    const bytes = Buffer.from(s, 'utf8')
    assert(bytes.length <= INT16_MAX, `a string of ${bytes.length} UTF-8 bytes does not fit an int16 length`)
    return this.int16(bytes.length).push(bytes)
  }

  bytes(b: Uint8Array): this {
    return this.nullableBytes(b)
  }

  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1)
    return this.int32(b.length).push(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  }

  array<T>(items: readonly T[], writeItem: (w: this, item: T) => unknown): this {
    this.int32(items.length)
    for (const item of items) writeItem(this, item)
    return this
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks)
  }

  private push(b: Buffer): this {
    this.chunks.push(b)
    return this
  }
}

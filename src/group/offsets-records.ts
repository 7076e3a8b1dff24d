/**
 * The records kafkalite writes to `__consumer_offsets`, in Kafka's key and value schemas
 * (src/codec/offsets-topic.ts has the byte layouts; kafka-format.md §3):
 *
 * | record          | key                          | value                                   | written when                          |
 * |-----------------|------------------------------|-----------------------------------------|---------------------------------------|
 * | offset commit   | v1 (group, topic, partition) | OffsetCommitValue v3                    | a commit, a resetOffsets              |
 * | offset deletion | v1 (group, topic, partition) | null (tombstone)                        | offsets expiry, deleteGroup           |
 * | group metadata  | v2 (group)                   | GroupMetadataValue v3, protocolType "consumer", members' subscription and assignment in the consumer protocol (v3) | a rebalance completes, a static member replaces itself, the group becomes Empty |
 * | group deletion  | v2 (group)                   | null (tombstone)                        | deleteGroup, expiry of an Empty group's last offset |
 *
 * This module turns typed values into records and records back into typed values; it holds no state.
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import {
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
} from '../codec/offsets-topic'
import type { Offset, TimestampMs } from '../util/types'
import { flattenTopicPartitions, groupByTopic, type TopicPartition } from './topic-partition'

/** The group protocol type of consumer groups (Kafka's ConsumerProtocol.PROTOCOL_TYPE). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer'

/** One record of the offsets topic: Kafka key and value bytes; a null value is a tombstone. */
export interface OffsetsRecord {
  readonly key: Buffer
  readonly value: Buffer | null
}

export interface CommittedOffset {
  readonly offset: Offset
  readonly metadata: string
  readonly commitTimestamp: TimestampMs
  /** -1: unknown (kafkalite has one leader epoch, and writes -1 as a client without epochs does). */
  readonly leaderEpoch: number
  /** Only records written by old clients (v1) carry one; -1 otherwise. */
  readonly expireTimestamp: TimestampMs
}

export interface MemberRecord {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly rebalanceTimeoutMs: number
  readonly sessionTimeoutMs: number
  /** The topics the member subscribed to when it last joined (a pattern resolved to names). */
  readonly topics: readonly string[]
  /** What the member reported owning when it last joined, and the generation that ownership was from. */
  readonly ownedPartitions: readonly TopicPartition[]
  readonly ownedGeneration: number
  readonly assignment: readonly TopicPartition[]
}

/** A group's metadata as its last GroupMetadataValue record states it. */
export interface GroupSnapshot {
  readonly protocolType: string
  readonly generation: number
  /** The assignor chosen for this generation; null while the group is Empty. */
  readonly protocol: AssignmentStrategy | null
  readonly leader: string | null
  /** When the group entered its current state (Kafka uses it as the base of offset expiry for Empty groups). */
  readonly currentStateTimestamp: TimestampMs
  readonly members: readonly MemberRecord[]
}

/** A decoded record, as `replay` consumes it. Record types kafkalite does not model come back as `ignored`. */
export type DecodedOffsetsRecord =
  | { readonly type: 'offsetCommit'; readonly group: string; readonly topic: string; readonly partition: number; readonly value: CommittedOffset | null }
  | { readonly type: 'groupMetadata'; readonly group: string; readonly value: GroupSnapshot | null }
  | { readonly type: 'ignored'; readonly keyVersion: number }

export function offsetCommitRecord(group: string, tp: TopicPartition, value: Omit<CommittedOffset, 'expireTimestamp' | 'leaderEpoch'>): OffsetsRecord {
  return {
    key: encodeOffsetCommitKey({ group, topic: tp.topic, partition: tp.partition }),
    value: encodeOffsetCommitValue({ offset: value.offset, metadata: value.metadata, commitTimestamp: value.commitTimestamp, leaderEpoch: -1 }),
  }
}

export function offsetTombstone(group: string, tp: TopicPartition): OffsetsRecord {
  return { key: encodeOffsetCommitKey({ group, topic: tp.topic, partition: tp.partition }), value: null }
}

export function groupMetadataRecord(group: string, snapshot: GroupSnapshot): OffsetsRecord {
  return {
    key: encodeGroupMetadataKey(group),
    value: encodeGroupMetadataValue({
      protocolType: snapshot.protocolType,
      generation: snapshot.generation,
      protocol: snapshot.protocol,
      leader: snapshot.leader,
      currentStateTimestamp: snapshot.currentStateTimestamp,
      members: snapshot.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: encodeConsumerProtocolSubscription({
          topics: [...m.topics].sort(),
          ownedPartitions: groupByTopic(m.ownedPartitions),
          generationId: m.ownedGeneration,
        }),
        assignment: encodeConsumerProtocolAssignment({ assignedPartitions: groupByTopic(m.assignment) }),
      })),
    }),
  }
}

export function groupTombstone(group: string): OffsetsRecord {
  return { key: encodeGroupMetadataKey(group), value: null }
}

/** Decodes a record of the offsets topic; CorruptRecordError for bytes that do not fit Kafka's schemas. */
export function decodeOffsetsRecord(key: Buffer, value: Buffer | null): DecodedOffsetsRecord {
  const k = decodeOffsetsTopicKey(key)
  if (k.type === 'unknown') return { type: 'ignored', keyVersion: k.version }
  if (k.type === 'offsetCommit') {
    return { type: 'offsetCommit', group: k.group, topic: k.topic, partition: k.partition, value: value === null ? null : decodeCommittedOffset(value) }
  }
  return { type: 'groupMetadata', group: k.group, value: value === null ? null : decodeGroupSnapshot(value) }
}

function decodeCommittedOffset(value: Buffer): CommittedOffset {
  const v = decodeOffsetCommitValue(value)
  return { offset: v.offset, metadata: v.metadata, commitTimestamp: v.commitTimestamp, leaderEpoch: v.leaderEpoch, expireTimestamp: v.expireTimestamp }
}

/**
 * A GroupMetadataValue as a snapshot. Member subscriptions and assignments are decoded only for the
 * "consumer" protocol type; a group of another type (a Kafka Connect group in a directory taken from a
 * broker) keeps its members with empty subscriptions, and kafkalite members cannot join it.
 */
function decodeGroupSnapshot(value: Buffer): GroupSnapshot {
  const v = decodeGroupMetadataValue(value)
  const consumer = v.protocolType === CONSUMER_PROTOCOL_TYPE
  return {
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol as AssignmentStrategy | null,
    leader: v.leader,
    currentStateTimestamp: v.currentStateTimestamp,
    members: v.members.map((m): MemberRecord => {
      const subscription = consumer ? decodeConsumerProtocolSubscription(m.subscription) : undefined
      const assignment = consumer ? decodeConsumerProtocolAssignment(m.assignment) : undefined
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        // Kafka's replay uses the session timeout when a v0 record has no rebalance timeout.
        rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
        sessionTimeoutMs: m.sessionTimeout,
        topics: subscription?.topics ?? [],
        ownedPartitions: flattenTopicPartitions(subscription?.ownedPartitions ?? []),
        ownedGeneration: subscription?.generationId ?? -1,
        assignment: flattenTopicPartitions(assignment?.assignedPartitions ?? []),
      }
    }),
  }
}

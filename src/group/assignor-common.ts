/**
 * Types and helpers shared by the assignors (assignor.ts explains the contract every assignor keeps).
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import type { TopicPartition } from './topic-partition'

export type RebalanceProtocol = 'eager' | 'cooperative'

export interface MemberSubscription {
  readonly memberId: string
  readonly groupInstanceId: string | null
  /** Topic names the member subscribes to (a pattern is resolved to names before assignment). */
  readonly topics: readonly string[]
  /**
   * What the member owned in generation `generation`: its current partitions for a cooperative member,
   * its previous ones for an eager member (Kafka's StickyAssignor carries them in userData). Ignored by
   * range and roundrobin.
   */
  readonly ownedPartitions: readonly TopicPartition[]
  /** The generation `ownedPartitions` belong to; -1 when none. A higher generation wins a conflict. */
  readonly generation: number
}

export interface AssignorInput {
  readonly members: readonly MemberSubscription[]
  /** Partition count of every subscribed topic that exists; topics missing here are not assigned. */
  readonly partitionsPerTopic: ReadonlyMap<string, number>
}

/** memberId → its partitions, sorted by topic then partition. Every member of the input has an entry. */
export type Assignment = Map<string, TopicPartition[]>

export interface Assignor {
  readonly name: AssignmentStrategy
  readonly protocol: RebalanceProtocol
  assign(input: AssignorInput): Assignment
}

/** Kafka's `MemberInfo.compareTo`: static members by instance id first, then dynamic ones by member id. */
export function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId)
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** An assignment with an empty list for every member, to be filled. */
export function emptyAssignment(members: readonly MemberSubscription[]): Assignment {
  return new Map(members.map((m) => [m.memberId, []]))
}

/** The subscribed topics that exist, sorted. */
export function subscribedTopics(input: AssignorInput): string[] {
  const topics = new Set<string>()
  for (const m of input.members) for (const t of m.topics) if (input.partitionsPerTopic.has(t)) topics.add(t)
  return [...topics].sort(compareStrings)
}

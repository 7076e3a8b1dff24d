/**
 * One consumer group as the coordinator runs it (Kafka's `ClassicGroup`): its state machine, its members
 * and the bookkeeping of a rebalance in progress.
 *
 * Two kinds of state, kept apart on purpose:
 * - Stored state: the generation, the assignor, the leader, each member's assignment and the time the
 *   group entered its state. It changes only in `applySnapshot`, which the coordinator calls when it
 *   replays a GroupMetadataValue record, live or at load (STYLE 5).
 * - Rebalance state: who has joined the rebalance in progress, pending join requests, timers, and which
 *   members have a live object in this process. Kafka keeps this in memory too; none of it is a record.
 *
 * Membership, in one process. A member is *attached* while its GroupConsumer object is open: that object
 * is its heartbeat (Kafka's heartbeat thread beats for a live consumer however long it takes between
 * polls; a consumer object that stops polling is caught by maxPollIntervalMs instead). A static member
 * (groupInstanceId) that closes, or stops polling, becomes *detached*: it keeps its place and its
 * partitions without a rebalance for sessionTimeoutMs, the window in which a new object with the same
 * instance id takes its place. Static members loaded from the offsets topic start detached. Dynamic
 * members never outlive their object: they leave when it closes or stops polling.
 *
 * Invariants:
 * - `staticMembers` maps each instance id of a member in `members` to that member's id, and nothing else.
 * - A member with `joined` set exists only in PreparingRebalance (the flag is cleared when it starts).
 * - `pendingJoins` holds only members of `members`.
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import type { TimerHandle } from '../io/clock'
import type { JoinOutcome, MemberHandle } from './membership'
import { CONSUMER_PROTOCOL_TYPE, type GroupSnapshot, type MemberRecord } from './offsets-records'
import { GroupStateMachine, type GroupState } from './group-state'
import type { TopicPartition } from './topic-partition'

export interface RuntimeMember {
  memberId: string
  readonly groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  topics: readonly string[]
  /** Assignors the member supports, in its order of preference. */
  protocols: readonly AssignmentStrategy[]
  ownedPartitions: readonly TopicPartition[]
  ownedGeneration: number
  /** The member's assignment in the stored generation (set by `applySnapshot`); empty before it has one. */
  assignment: readonly TopicPartition[]
  /** The live object, for notifications; undefined once it has closed (or before one rejoins after a restart). */
  handle: MemberHandle | undefined
  /** Whether the object is polling: false for a detached static member, whose session timer then runs. */
  attached: boolean
  joined: boolean
  sessionTimer: TimerHandle | undefined
}

export interface PendingJoin {
  resolve(outcome: JoinOutcome): void
  reject(error: unknown): void
}

export class Group {
  readonly machine: GroupStateMachine
  readonly members = new Map<string, RuntimeMember>()
  readonly staticMembers = new Map<string, string>()
  readonly pendingJoins = new Map<string, PendingJoin>()
  // Stored state, set only by applySnapshot.
  generation = 0
  protocol: AssignmentStrategy | null = null
  leader: string | null = null
  currentStateTimestamp = -1
  /** Partition counts the current generation's assignment was computed with. */
  partitionsPerTopic = new Map<string, number>()
  // Rebalance state.
  rebalanceTimer: TimerHandle | undefined
  initialDelayTimer: TimerHandle | undefined
  /** Incremented whenever a rebalance starts, so a completion that lost a race can tell. */
  rebalanceEpoch = 0
  /**
   * The newest generation whose assignments reached the members (or, after a load, the stored one).
   * It trails `generation` when a rebalance overtook a stored generation before it was made durable and
   * handed out: the members still hold that older generation's assignment, and may commit in it.
   */
  handedOutGeneration = 0

  constructor(
    readonly groupId: string,
    initial: 'Empty' | 'Stable',
    now: number,
  ) {
    this.machine = new GroupStateMachine(groupId, initial, now)
  }

  get state(): GroupState {
    return this.machine.state
  }

  addMember(member: RuntimeMember): void {
    this.members.set(member.memberId, member)
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId)
  }

  /** Removes a member and its pending join (answered `removed`); returns it, or undefined if unknown. */
  removeMember(memberId: string): RuntimeMember | undefined {
    const member = this.members.get(memberId)
    if (member === undefined) return undefined
    member.sessionTimer?.cancel()
    member.sessionTimer = undefined
    this.members.delete(memberId)
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) this.staticMembers.delete(member.groupInstanceId)
    this.pendingJoins.get(memberId)?.resolve({ type: 'removed' })
    this.pendingJoins.delete(memberId)
    if (this.leader === memberId) this.leader = null
    return member
  }

  /** Gives a static member a new member id (a new object took its place); the old id is fenced. */
  replaceMemberId(member: RuntimeMember, newMemberId: string): void {
    const oldId = member.memberId
    this.pendingJoins.get(oldId)?.resolve({ type: 'removed' })
    this.pendingJoins.delete(oldId)
    this.members.delete(oldId)
    member.memberId = newMemberId
    this.addMember(member)
    if (this.leader === oldId) this.leader = newMemberId
  }

  allJoined(): boolean {
    for (const m of this.members.values()) if (!m.joined) return false
    return true
  }

  /** The snapshot that stores the group as it is now, with `changes` applied. */
  snapshot(changes: { generation: number; protocol: AssignmentStrategy | null; leader: string | null; now: number; assignment?: Map<string, TopicPartition[]> }): GroupSnapshot {
    return {
      protocolType: CONSUMER_PROTOCOL_TYPE,
      generation: changes.generation,
      protocol: changes.protocol,
      leader: changes.leader,
      currentStateTimestamp: changes.now,
      members: [...this.members.values()].map(
        (m): MemberRecord => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          sessionTimeoutMs: m.sessionTimeoutMs,
          topics: m.topics,
          ownedPartitions: m.ownedPartitions,
          ownedGeneration: m.ownedGeneration,
          assignment: changes.assignment?.get(m.memberId) ?? m.assignment,
        }),
      ),
    }
  }

  /**
   * Stored state from a replayed GroupMetadataValue. Members the record names and the group does not
   * know (loading) are added detached, with no live object; known members take the stored assignment.
   */
  applySnapshot(snapshot: GroupSnapshot, partitionsPerTopic: Map<string, number>): void {
    this.generation = snapshot.generation
    this.protocol = snapshot.protocol
    this.leader = snapshot.leader
    this.currentStateTimestamp = snapshot.currentStateTimestamp
    this.partitionsPerTopic = partitionsPerTopic
    for (const record of snapshot.members) {
      const member = this.members.get(record.memberId)
      if (member !== undefined) {
        member.assignment = record.assignment
        continue
      }
      this.addMember({
        memberId: record.memberId,
        groupInstanceId: record.groupInstanceId,
        clientId: record.clientId,
        clientHost: record.clientHost,
        rebalanceTimeoutMs: record.rebalanceTimeoutMs,
        sessionTimeoutMs: record.sessionTimeoutMs,
        topics: record.topics,
        protocols: snapshot.protocol === null ? [] : [snapshot.protocol],
        // A loaded member's ownership is its stored assignment, which the sticky assignors then keep.
        ownedPartitions: record.assignment,
        ownedGeneration: snapshot.generation,
        assignment: record.assignment,
        handle: undefined,
        attached: false,
        joined: false,
        sessionTimer: undefined,
      })
    }
  }
}

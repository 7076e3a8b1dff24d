/**
 * The group coordinator for one data directory (Kafka's GroupCoordinator with its GroupMetadataManager
 * and OffsetMetadataManager, for members that live in this process).
 *
 * It runs Kafka's classic rebalance protocol (membership.ts shows the messages; rebalance.ts has the
 * state transitions and their timers, this file who may join, commit or be removed): a join, a leave, a
 * new partition or topic, or a timeout moves a group to PreparingRebalance; every known member then
 * joins again (cooperative members keep consuming meanwhile); once all have joined, or the rebalance
 * timeout has passed, the leader's assignor computes the assignment (CompletingRebalance), the new
 * generation is appended to `__consumer_offsets`, and when that record is durable the members get their
 * assignments (Stable). A group whose last member leaves stores an empty generation (Empty).
 *
 * State as replayed records (STYLE 5): every record this coordinator appends goes through `replay` right
 * after the append, and opening a data directory replays every record in the log through the same
 * method. Committed offsets and each group's stored generation, assignor, leader and assignments change
 * nowhere else (offsets-state.ts, Group.applySnapshot).
 *
 * Timers, all on the engine's clock: a group's rebalance timeout (the largest maxPollIntervalMs of its
 * members, as Kafka's rebalance timeout), the initial rebalance delay of an Empty group
 * (groupInitialRebalanceDelayMs), each detached static member's session timeout, and the periodic
 * offsets expiry (offsetsRetentionCheckIntervalMs).
 *
 * Concurrency: every operation is synchronous once the offsets topic exists; the async entry points
 * await only `ensureTopic()` and then check, append and replay without another await, so no two
 * operations interleave between a check and the write it guards. Durability (the fsync of an append)
 * is awaited after the state change, and only gates what callers are told.
 */
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import type { OffsetResetEvent, OffsetResetTotals } from '../consumer/types'
import type { Engine } from '../engine/engine'
import { KafkaliteError } from '../errors/index'
import type { TimerHandle } from '../io/clock'
import { Group, type RuntimeMember } from './group'
import { checkGroupId, checkProtocols, checkSessionTimeout, validateCommitter, validateOffset, type Committer, type OffsetToCommit } from './group-checks'
import type { GroupState } from './group-state'
import type { JoinRequest, JoinTicket, RemovalReason } from './membership'
import { expiredOffsets } from './offsets-expiry'
import { OffsetsLog, type AppendedRecords } from './offsets-log'
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeOffsetsRecord,
  groupMetadataRecord,
  groupTombstone,
  offsetCommitRecord,
  offsetTombstone,
  type CommittedOffset,
  type OffsetsRecord,
} from './offsets-records'
import { OffsetsTopicState, type StoredGroup } from './offsets-state'
import { Rebalancer } from './rebalance'
import { parseTpKey, sameTopics, tpKey, type TopicPartitionKey } from './topic-partition'

export type { Committer, OffsetToCommit } from './group-checks'

export interface GroupListing {
  readonly groupId: string
  readonly state: GroupState
  readonly protocolType: string
  readonly members: number
}

const CLIENT_HOST = `/${hostname()}`

export class GroupCoordinator {
  readonly engine: Engine
  private readonly log: OffsetsLog
  private readonly stored = new OffsetsTopicState()
  private readonly groups = new Map<string, Group>()
  private readonly inflight = new Set<Promise<unknown>>()
  /** Offset resets the group's members reported, per group and partition (in memory; not records). */
  private readonly resets = new Map<string, Map<TopicPartitionKey, OffsetResetTotals>>()
  private loading = false
  private closed = false
  private expiryTimer: TimerHandle | undefined
  private readonly unregisterCloseHook: () => void
  private readonly rebalancer: Rebalancer

  private constructor(engine: Engine) {
    this.engine = engine
    this.log = new OffsetsLog(engine)
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const coordinator = this
    this.rebalancer = new Rebalancer({
      clock: engine.clock,
      config: engine.config,
      get isClosed() {
        return coordinator.closed
      },
      write: (groupId, records) => this.write(groupId, records),
      durable: (appended) => this.durable(appended),
      partitionCounts: (topics) => this.partitionCounts(topics),
    })
    this.unregisterCloseHook = engine.onClose(() => this.close())
  }

  /**
   * Opens the coordinator of `engine`: replays `__consumer_offsets` if it exists (synchronously; the
   * reads hit the page cache or memory), then resumes what the records describe: static members get
   * their session timeout from now, and dynamic members, whose objects cannot have survived the
   * previous process, are removed at once.
   */
  static open(engine: Engine): GroupCoordinator {
    const coordinator = new GroupCoordinator(engine)
    coordinator.load()
    coordinator.scheduleExpiry()
    return coordinator
  }

  // ---------------------------------------------------------------------------------------------------
  // Replay: the one path by which stored group and offset state changes

  private replay(record: OffsetsRecord): void {
    const effect = this.stored.replay(decodeOffsetsRecord(record.key, record.value))
    if (this.loading || effect.type !== 'groupMetadata') return
    const group = this.groups.get(effect.group)
    if (group === undefined) return
    if (effect.snapshot === null) {
      this.killGroup(group)
      return
    }
    group.applySnapshot(effect.snapshot, this.partitionCounts(effect.snapshot.members.flatMap((m) => m.topics)))
  }

  /** Appends `records` for `groupId` as one batch and replays them. Synchronous; throws what the append throws. */
  private write(groupId: string, records: OffsetsRecord[]): AppendedRecords {
    const appended = this.log.append(groupId, records)
    for (const record of records) this.replay(record)
    return appended
  }

  /** Resolves when `appended` is fsynced; tracked so that close waits for it. */
  private durable(appended: AppendedRecords): Promise<void> {
    const flushed = this.log.flush(appended)
    this.inflight.add(flushed)
    const forget = () => void this.inflight.delete(flushed)
    flushed.then(forget, forget)
    return flushed
  }

  private load(): void {
    this.loading = true
    try {
      this.log.load((key, value) => this.replay({ key, value }))
    } finally {
      this.loading = false
    }
    const now = this.engine.clock.now()
    for (const groupId of this.stored.groupIds()) {
      const snapshot = this.stored.group(groupId)!.metadata
      if (snapshot === undefined || snapshot.protocolType !== CONSUMER_PROTOCOL_TYPE) continue
      const group = new Group(groupId, snapshot.members.length === 0 ? 'Empty' : 'Stable', now)
      group.applySnapshot(snapshot, this.partitionCounts(snapshot.members.flatMap((m) => m.topics)))
      group.handedOutGeneration = group.generation
      this.groups.set(groupId, group)
      for (const member of [...group.members.values()]) {
        if (member.groupInstanceId === null) group.removeMember(member.memberId)
        else this.startSession(group, member)
      }
      if (group.members.size < snapshot.members.length) this.rebalancer.membershipShrank(group)
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Membership

  /**
   * Creates `__consumer_offsets` if needed; every async operation awaits it before acting. Commits may
   * still run while the data directory is closing (members commit in their close hooks); everything
   * else needs it open.
   */
  async ready(purpose: 'commit' | 'other' = 'other'): Promise<void> {
    this.ensureUsable(purpose)
    await this.log.ensureTopic()
    this.ensureUsable(purpose)
  }

  /**
   * A member joins (or joins again). Returns at once with the member id; the outcome resolves when the
   * rebalance completes. Throws ERR_INVALID_CONFIG (session timeout outside the engine's bounds),
   * ERR_INCONSISTENT_GROUP_PROTOCOL (no assignor in common with the group), ERR_GROUP_MAX_SIZE_REACHED,
   * ERR_FENCED_INSTANCE_ID (a newer object holds this member's static instance id).
   */
  async join(groupId: string, request: JoinRequest): Promise<JoinTicket> {
    await this.ready()
    return this.joinNow(groupId, request)
  }

  private joinNow(groupId: string, request: JoinRequest): JoinTicket {
    checkSessionTimeout(this.engine.config, request.sessionTimeoutMs)
    const group = this.liveGroup(groupId)
    checkProtocols(group, request)
    const { groupInstanceId } = request
    if (groupInstanceId !== null) {
      const holder = group.staticMembers.get(groupInstanceId)
      if (request.memberId !== null && holder !== undefined && holder !== request.memberId) {
        throw new KafkaliteError('ERR_FENCED_INSTANCE_ID', `Group ${groupId}: groupInstanceId ${groupInstanceId} is held by a newer member`, { groupId, groupInstanceId })
      }
      if (holder !== undefined && request.memberId === null) return this.staticRejoin(group, group.members.get(holder)!, request)
    }
    const known = request.memberId === null ? undefined : group.members.get(request.memberId)
    if (known !== undefined) return this.knownMemberJoin(group, known, request)
    if (group.members.size >= this.engine.config.groupMaxSize) {
      throw new KafkaliteError('ERR_GROUP_MAX_SIZE_REACHED', `Group ${groupId} already has ${group.members.size} members, the most groupMaxSize allows`, {
        groupId,
        groupMaxSize: this.engine.config.groupMaxSize,
      })
    }
    const member: RuntimeMember = {
      memberId: newMemberId(groupInstanceId ?? request.clientId),
      groupInstanceId,
      clientId: request.clientId,
      clientHost: CLIENT_HOST,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      topics: [...request.topics],
      protocols: [...request.protocols],
      ownedPartitions: request.ownedPartitions,
      ownedGeneration: request.ownedGeneration,
      assignment: [],
      handle: request.handle,
      attached: true,
      joined: false,
      sessionTimer: undefined,
    }
    group.addMember(member)
    return this.rebalancer.joinRebalance(group, member)
  }

  /**
   * A member the group knows joins again. In a Stable group, a member that only missed a generation
   * (its subscription and the partition counts are unchanged) gets the current assignment back without a
   * rebalance, as Kafka answers a follower's JoinGroup with unchanged metadata; otherwise a rebalance starts.
   */
  private knownMemberJoin(group: Group, member: RuntimeMember, request: JoinRequest): JoinTicket {
    const unchanged = sameTopics(member.topics, request.topics) && this.countsUnchanged(group)
    this.updateMember(member, request)
    if (group.state === 'Stable' && unchanged && request.ownedGeneration !== group.generation) {
      return { memberId: member.memberId, outcome: Promise.resolve(this.rebalancer.assignedOutcome(group, member)) }
    }
    return this.rebalancer.joinRebalance(group, member)
  }

  /**
   * A new object joins with the instance id of a static member the group already has: it takes that
   * member's place under a new member id (fencing the old object, if one is alive). In a Stable group
   * with an unchanged subscription this is stored as the same generation with the new id, and the member
   * gets the old assignment back: no other member notices (KIP-345).
   */
  private staticRejoin(group: Group, member: RuntimeMember, request: JoinRequest): JoinTicket {
    if (member.handle !== undefined && member.handle !== request.handle) member.handle.fenced()
    const unchanged = sameTopics(member.topics, request.topics) && this.countsUnchanged(group)
    group.replaceMemberId(member, newMemberId(member.groupInstanceId!))
    this.updateMember(member, request)
    if (group.state !== 'Stable' || !unchanged) return this.rebalancer.joinRebalance(group, member)

    const entry = this.rebalancer.registerPendingJoin(group, member)
    const epoch = group.rebalanceEpoch
    const snapshot = group.snapshot({ generation: group.generation, protocol: group.protocol, leader: group.leader, now: group.machine.since })
    const appended = this.write(group.groupId, [groupMetadataRecord(group.groupId, snapshot)])
    this.durable(appended).then(
      () => {
        if (group.pendingJoins.get(member.memberId) !== entry.pending || group.rebalanceEpoch !== epoch) return
        group.pendingJoins.delete(member.memberId)
        entry.pending.resolve(this.rebalancer.assignedOutcome(group, member))
      },
      (e: unknown) => {
        if (group.pendingJoins.get(member.memberId) !== entry.pending) return
        group.pendingJoins.delete(member.memberId)
        entry.pending.reject(e)
      },
    )
    return { memberId: member.memberId, outcome: entry.outcome }
  }

  private updateMember(member: RuntimeMember, request: JoinRequest): void {
    member.topics = [...request.topics]
    member.protocols = [...request.protocols]
    member.clientId = request.clientId
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    member.sessionTimeoutMs = request.sessionTimeoutMs
    // A new object after a restart owns nothing yet: its stored assignment stands for what it owned.
    if (request.ownedGeneration >= 0) {
      member.ownedPartitions = request.ownedPartitions
      member.ownedGeneration = request.ownedGeneration
    }
    member.handle = request.handle
    member.attached = true
    member.sessionTimer?.cancel()
    member.sessionTimer = undefined
  }

  /** A dynamic member leaves (its object closed or stopped polling), or a static member leaves explicitly. */
  leave(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId)
    if (group === undefined || group.removeMember(memberId) === undefined) return
    this.rebalancer.membershipShrank(group)
  }

  /**
   * A static member's object closed (`closing`) or stopped polling: the member keeps its place and its
   * partitions, without a rebalance, for its sessionTimeoutMs.
   */
  detach(groupId: string, memberId: string, closing: boolean): void {
    const member = this.groups.get(groupId)?.members.get(memberId)
    if (member === undefined) return
    if (closing) member.handle = undefined
    if (!member.attached) return
    member.attached = false
    this.startSession(this.groups.get(groupId)!, member)
  }

  private startSession(group: Group, member: RuntimeMember): void {
    member.sessionTimer?.cancel()
    member.sessionTimer = this.engine.clock.setTimeout(() => {
      member.sessionTimer = undefined
      if (this.closed || member.attached || group.members.get(member.memberId) !== member) return
      this.evict(group, member, 'sessionTimeout')
    }, member.sessionTimeoutMs)
  }

  private evict(group: Group, member: RuntimeMember, reason: RemovalReason): void {
    group.removeMember(member.memberId)
    member.handle?.removed(reason)
    this.rebalancer.membershipShrank(group)
  }

  // ---------------------------------------------------------------------------------------------------
  // Offsets

  /**
   * Commits offsets: checks the committer (Kafka's `validateOffsetCommit`) and every offset, then appends
   * one batch and replays it, synchronously. The promise resolves when the batch is durable. Call
   * `ready()` first. Errors: ERR_UNKNOWN_MEMBER, ERR_ILLEGAL_GENERATION, ERR_REBALANCE_IN_PROGRESS,
   * ERR_FENCED_INSTANCE_ID, ERR_UNKNOWN_TOPIC_OR_PARTITION, ERR_INVALID_ARGUMENT; nothing is written then.
   */
  commitNow(groupId: string, committer: Committer, offsets: readonly OffsetToCommit[]): Promise<void> {
    this.ensureUsable('commit')
    validateCommitter(this.groups.get(groupId), groupId, committer)
    const now = this.engine.clock.now()
    const records = offsets.map((o) => {
      validateOffset(this.engine, groupId, o)
      return offsetCommitRecord(groupId, o, { offset: o.offset, metadata: o.metadata ?? '', commitTimestamp: now })
    })
    if (records.length === 0) return Promise.resolve()
    return this.durable(this.write(groupId, records))
  }

  /**
   * A member's consumer reset an out-of-range position (autoOffsetReset): counted per partition so that
   * describe() shows the records the group skipped.
   */
  noteOffsetReset(groupId: string, event: OffsetResetEvent): void {
    const byPartition = this.resets.get(groupId) ?? new Map<TopicPartitionKey, OffsetResetTotals>()
    this.resets.set(groupId, byPartition)
    const key = tpKey(event.topic, event.partition)
    const totals = byPartition.get(key) ?? { topic: event.topic, partition: event.partition, resets: 0, recordsSkipped: 0 }
    totals.resets++
    totals.recordsSkipped += event.recordsSkipped
    byPartition.set(key, totals)
  }

  /** The reset totals of `groupId`'s partitions since this process opened the directory. */
  offsetResets(groupId: string): ReadonlyMap<TopicPartitionKey, OffsetResetTotals> {
    return this.resets.get(groupId) ?? new Map()
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.stored.committed(groupId, topic, partition)
  }

  storedGroup(groupId: string): Readonly<StoredGroup> | undefined {
    return this.stored.group(groupId)
  }

  /** Checks a member's config against the engine's group bounds before it is created. */
  checkMemberConfig(config: { readonly sessionTimeoutMs: number }): void {
    checkSessionTimeout(this.engine.config, config.sessionTimeoutMs)
  }

  // ---------------------------------------------------------------------------------------------------
  // Administration

  /** The group's state: Dead if unknown; Empty for a group with only committed offsets. */
  groupState(groupId: string): GroupState {
    const group = this.groups.get(groupId)
    if (group !== undefined) return group.state
    return this.stored.group(groupId) !== undefined ? 'Empty' : 'Dead'
  }

  group(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  listGroups(): GroupListing[] {
    const ids = new Set([...this.stored.groupIds(), ...[...this.groups.keys()].filter((id) => this.groups.get(id)!.state !== 'Dead')])
    return [...ids].sort().map((groupId) => {
      const group = this.groups.get(groupId)
      return {
        groupId,
        state: this.groupState(groupId),
        protocolType: this.stored.group(groupId)?.metadata?.protocolType ?? CONSUMER_PROTOCOL_TYPE,
        members: group?.members.size ?? 0,
      }
    })
  }

  /**
   * Deletes an Empty group: tombstones for its offsets and its metadata, in one batch (Kafka's
   * DeleteGroups). ERR_GROUP_ID_NOT_FOUND for a group that does not exist, ERR_NON_EMPTY_GROUP for a
   * group with members.
   */
  async deleteGroup(groupId: string): Promise<void> {
    checkGroupId(groupId)
    await this.ready()
    const group = this.groups.get(groupId)
    const stored = this.stored.group(groupId)
    if (stored === undefined && (group === undefined || group.state === 'Dead')) {
      throw new KafkaliteError('ERR_GROUP_ID_NOT_FOUND', `Group ${groupId} does not exist`, { groupId })
    }
    this.requireEmpty(groupId, 'deleted')
    const records = [...(stored?.offsets.keys() ?? [])].map((key) => offsetTombstone(groupId, parseTpKey(key)))
    records.push(groupTombstone(groupId))
    const appended = this.write(groupId, records)
    if (group !== undefined) this.killGroup(group)
    this.resets.delete(groupId)
    await this.durable(appended)
  }

  /** ERR_NON_EMPTY_GROUP unless the group has no members (Empty, or only offsets, or unknown). */
  requireEmpty(groupId: string, action: string): void {
    const group = this.groups.get(groupId)
    if (group === undefined || group.state === 'Empty' || group.state === 'Dead') return
    throw new KafkaliteError(
      'ERR_NON_EMPTY_GROUP',
      `Group ${groupId} cannot be ${action} while it has members (state ${group.state}, ${group.members.size} member${group.members.size === 1 ? '' : 's'}); close its consumers first`,
      { groupId, state: group.state, members: group.members.size },
    )
  }

  private killGroup(group: Group): void {
    group.rebalanceTimer?.cancel()
    group.initialDelayTimer?.cancel()
    for (const member of [...group.members.values()]) {
      group.removeMember(member.memberId)
      member.handle?.removed('groupDeleted')
    }
    if (group.state !== 'Dead') group.machine.transition('Dead', this.engine.clock.now())
    this.groups.delete(group.groupId)
    this.resets.delete(group.groupId)
  }

  // ---------------------------------------------------------------------------------------------------
  // Offsets expiry

  private scheduleExpiry(): void {
    this.expiryTimer = this.engine.clock.setTimeout(() => {
      this.expiryTimer = undefined
      if (this.closed) return
      try {
        this.expireOffsets()
      } catch {
        // A failed expiry pass (the directory is closing, an I/O error) is retried at the next interval.
      }
      this.scheduleExpiry()
    }, this.engine.config.offsetsRetentionCheckIntervalMs)
  }

  /**
   * One expiry pass (Kafka's `cleanupGroupMetadata`): expired offsets get tombstones; an Empty group
   * left with no offsets is deleted. Synchronous.
   */
  expireOffsets(): void {
    if (!this.log.exists) return
    const now = this.engine.clock.now()
    for (const groupId of this.stored.groupIds()) {
      const stored = this.stored.group(groupId)!
      const group = this.groups.get(groupId)
      const state = group?.state ?? 'Empty'
      const subscribed = new Set(group === undefined ? [] : [...group.members.values()].flatMap((m) => m.topics))
      const expired = expiredOffsets(stored, state, subscribed, now, this.engine.config.offsetsRetentionMs)
      if (expired.length === 0) continue
      const records = expired.map((tp) => offsetTombstone(groupId, tp))
      const deleteGroup = state === 'Empty' && expired.length === stored.offsets.size
      if (deleteGroup && stored.metadata !== undefined) records.push(groupTombstone(groupId))
      this.durable(this.write(groupId, records)).catch(() => undefined)
      if (deleteGroup && group !== undefined) this.killGroup(group)
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Close

  /** Stops every timer and waits for pending appends to be durable. Members close first (their hooks run earlier). */
  private async close(): Promise<void> {
    this.closed = true
    this.expiryTimer?.cancel()
    for (const group of this.groups.values()) {
      group.rebalanceTimer?.cancel()
      group.initialDelayTimer?.cancel()
      for (const member of group.members.values()) member.sessionTimer?.cancel()
    }
    await Promise.allSettled([...this.inflight])
    this.unregisterCloseHook()
  }

  get isClosed(): boolean {
    return this.closed
  }

  // ---------------------------------------------------------------------------------------------------
  // Helpers

  private ensureUsable(purpose: 'commit' | 'other'): void {
    if (this.closed) throw new KafkaliteError('ERR_CLOSED', 'The group coordinator is closed')
    if (purpose === 'commit' && this.engine.state === 'closing') return
    this.engine.ensureOpen()
  }

  /** The group `groupId`, created Empty if it does not exist (or was deleted). */
  private liveGroup(groupId: string): Group {
    let group = this.groups.get(groupId)
    if (group === undefined || group.state === 'Dead') {
      const foreign = this.stored.group(groupId)?.metadata?.protocolType
      if (foreign !== undefined && foreign !== CONSUMER_PROTOCOL_TYPE) {
        throw new KafkaliteError('ERR_INCONSISTENT_GROUP_PROTOCOL', `Group ${groupId} is a "${foreign}" group, not a consumer group`, { groupId, protocolType: foreign })
      }
      group = new Group(groupId, 'Empty', this.engine.clock.now())
      this.groups.set(groupId, group)
    }
    return group
  }

  private countsUnchanged(group: Group): boolean {
    const topics = [...group.members.values()].flatMap((m) => m.topics)
    const now = this.partitionCounts(topics)
    if (now.size !== group.partitionsPerTopic.size) return false
    for (const [topic, n] of now) if (group.partitionsPerTopic.get(topic) !== n) return false
    return true
  }

  /** Partition counts of those of `topics` that exist. */
  partitionCounts(topics: Iterable<string>): Map<string, number> {
    const counts = new Map<string, number>()
    for (const topic of topics) if (!counts.has(topic) && this.engine.hasTopic(topic)) counts.set(topic, this.engine.partitionCount(topic))
    return counts
  }
}

/** Kafka's member ids: `<clientId or instance id>-<uuid>`. */
function newMemberId(prefix: string): string {
  return `${prefix === '' ? 'consumer' : prefix}-${randomUUID()}`
}

/**
 * Kafka's classic rebalance, the part that decides when (GroupCoordinator decides who): a group enters
 * PreparingRebalance, every known member is told to join again, and once all have joined (or the
 * rebalance timeout has passed) the leader's assignor computes the assignment; the group is
 * CompletingRebalance while the new generation's GroupMetadataValue is made durable, then Stable, and
 * the members get their assignments. A group whose last member has left stores an empty generation and
 * is Empty.
 *
 * - The leader: the previous leader if it is still a member, else the first member to join. In one
 *   process there is no SyncGroup round trip: as soon as the join completes, the coordinator runs the
 *   assignor the leader would run (the group's protocol, chosen by selectAssignor) over every member's
 *   subscription and ownership, and stores the result.
 * - Rebalance timeout: the largest rebalanceTimeoutMs (maxPollIntervalMs) of the members, counted from the
 *   start of PreparingRebalance. Dynamic members that have not joined by then are removed; static members
 *   stay with their stored subscription (they may come back within their session timeout), as in Kafka.
 * - Initial delay: a rebalance that starts from Empty waits groupInitialRebalanceDelayMs before it may
 *   complete, so that members started together share one rebalance.
 * - `rebalanceEpoch` counts rebalance starts: a completion whose generation was overtaken by a new
 *   rebalance while it was being made durable answers nobody (the members were told to join again).
 *
 * Concurrency: every method is synchronous; the only asynchronous step is the fsync of the stored
 * generation, after which the epoch is checked again.
 */
import type { EngineConfig } from '../config/engine-config'
import type { Clock } from '../io/clock'
import { assert } from '../util/assert'
import { selectAssignor } from './assignor'
import type { Group, PendingJoin, RuntimeMember } from './group'
import type { JoinOutcome, JoinTicket } from './membership'
import type { AppendedRecords } from './offsets-log'
import { groupMetadataRecord, type OffsetsRecord } from './offsets-records'

/** What the rebalance needs from the coordinator: the clock, config, and the one write path (append + replay). */
export interface RebalanceHost {
  readonly clock: Clock
  readonly config: Readonly<EngineConfig>
  readonly isClosed: boolean
  write(groupId: string, records: OffsetsRecord[]): AppendedRecords
  durable(appended: AppendedRecords): Promise<void>
  partitionCounts(topics: Iterable<string>): Map<string, number>
}

export class Rebalancer {
  constructor(private readonly host: RebalanceHost) {}

  /** The member takes part in the rebalance, starting one unless one is already preparing. */
  joinRebalance(group: Group, member: RuntimeMember): JoinTicket {
    this.prepareRebalance(group, member)
    const entry = this.registerPendingJoin(group, member)
    member.joined = true
    this.maybeCompleteJoin(group)
    return { memberId: member.memberId, outcome: entry.outcome }
  }

  registerPendingJoin(group: Group, member: RuntimeMember): { pending: PendingJoin; outcome: Promise<JoinOutcome> } {
    group.pendingJoins.get(member.memberId)?.resolve({ type: 'rejoin' })
    let pending!: PendingJoin
    const outcome = new Promise<JoinOutcome>((resolve, reject) => (pending = { resolve, reject }))
    group.pendingJoins.set(member.memberId, pending)
    return { pending, outcome }
  }

  membershipShrank(group: Group): void {
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group)
    this.maybeCompleteJoin(group)
  }

  /** Enters PreparingRebalance (no-op if already there): every member but `joining` is told to join again. */
  prepareRebalance(group: Group, joining?: RuntimeMember): void {
    if (group.state === 'PreparingRebalance') return
    const wasEmpty = group.state === 'Empty'
    group.machine.transition('PreparingRebalance', this.host.clock.now())
    group.rebalanceEpoch++
    // Answers for a generation that will not complete now: the members join again.
    for (const pending of group.pendingJoins.values()) pending.resolve({ type: 'rejoin' })
    group.pendingJoins.clear()
    for (const m of group.members.values()) m.joined = false
    for (const m of group.members.values()) if (m !== joining) m.handle?.rebalanceStarted()

    const epoch = group.rebalanceEpoch
    const timeout = Math.max(1, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs))
    group.rebalanceTimer?.cancel()
    group.rebalanceTimer = this.host.clock.setTimeout(() => this.onRebalanceTimeout(group, epoch), timeout)
    const delay = this.host.config.groupInitialRebalanceDelayMs
    if (wasEmpty && delay > 0) {
      group.initialDelayTimer = this.host.clock.setTimeout(() => {
        group.initialDelayTimer = undefined
        if (!this.host.isClosed) this.maybeCompleteJoin(group)
      }, delay)
    }
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelayTimer !== undefined || !group.allJoined()) return
    this.completeJoin(group)
  }

  /**
   * The rebalance timeout passed: dynamic members that have not joined are removed; static ones stay
   * (they may come back within their session timeout), as Kafka does. Then the join completes.
   */
  private onRebalanceTimeout(group: Group, epoch: number): void {
    if (this.host.isClosed || group.rebalanceEpoch !== epoch || group.state !== 'PreparingRebalance') return
    for (const member of [...group.members.values()]) {
      if (!member.joined && member.groupInstanceId === null) {
        group.removeMember(member.memberId)
        member.handle?.removed('rebalanceTimeout')
      }
    }
    group.initialDelayTimer?.cancel()
    group.initialDelayTimer = undefined
    this.completeJoin(group)
  }

  /**
   * Every member has joined (or the timeout passed): run the leader's assignor, store the new generation,
   * and hand out the assignments once it is durable. With no members left, store an empty generation.
   */
  private completeJoin(group: Group): void {
    group.rebalanceTimer?.cancel()
    group.rebalanceTimer = undefined
    const now = this.host.clock.now()
    if (group.members.size === 0) {
      const snapshot = group.snapshot({ generation: group.generation + 1, protocol: null, leader: null, now })
      try {
        this.host.write(group.groupId, [groupMetadataRecord(group.groupId, snapshot)])
      } catch {
        return // stays PreparingRebalance; the next join or leave tries again
      }
      group.machine.transition('Empty', now)
      return
    }
    const members = [...group.members.values()]
    const assignor = selectAssignor(members.map((m) => m.protocols))
    assert(assignor !== undefined, `group ${group.groupId} has no common assignor; joins are checked`)
    const leader = group.leader !== null && group.members.has(group.leader) ? group.leader : (members.find((m) => m.joined) ?? members[0]!).memberId
    const partitionsPerTopic = this.host.partitionCounts(members.flatMap((m) => m.topics))
    const assignment = assignor.assign({
      members: members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: m.topics,
        ownedPartitions: m.ownedPartitions,
        generation: m.ownedGeneration,
      })),
      partitionsPerTopic,
    })
    group.machine.transition('CompletingRebalance', now)
    const epoch = group.rebalanceEpoch
    const snapshot = group.snapshot({ generation: group.generation + 1, protocol: assignor.name, leader, now, assignment })
    let appended: AppendedRecords
    try {
      appended = this.host.write(group.groupId, [groupMetadataRecord(group.groupId, snapshot)])
    } catch (e) {
      this.failCompletion(group, e)
      return
    }
    this.host.durable(appended).then(
      () => {
        if (this.host.isClosed || group.rebalanceEpoch !== epoch || group.state !== 'CompletingRebalance') return
        group.machine.transition('Stable', this.host.clock.now())
        group.handedOutGeneration = group.generation
        const pending = [...group.pendingJoins]
        group.pendingJoins.clear()
        for (const [memberId, p] of pending) p.resolve(this.assignedOutcome(group, group.members.get(memberId)!))
      },
      (e: unknown) => {
        if (group.rebalanceEpoch === epoch && group.state === 'CompletingRebalance') this.failCompletion(group, e)
      },
    )
  }

  /** Storing a generation failed: the joins fail with the error, and the rebalance starts over. */
  private failCompletion(group: Group, error: unknown): void {
    for (const pending of group.pendingJoins.values()) pending.reject(error)
    group.pendingJoins.clear()
    if (group.state === 'CompletingRebalance') this.prepareRebalance(group)
  }

  assignedOutcome(group: Group, member: RuntimeMember): JoinOutcome {
    return {
      type: 'assigned',
      memberId: member.memberId,
      generation: group.generation,
      protocol: group.protocol!,
      leader: group.leader!,
      assignment: member.assignment,
      partitionsPerTopic: group.partitionsPerTopic,
    }
  }
}

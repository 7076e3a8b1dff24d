/**
 * The in-process membership protocol between a group member (member.ts) and the coordinator
 * (coordinator.ts): Kafka's JoinGroup / SyncGroup / LeaveGroup / Heartbeat, as method calls and promises.
 *
 *   member                                   coordinator
 *   join(request) ────────────────────────► registers the member, starts or joins a rebalance
 *                 ◄─── JoinTicket (memberId, outcome promise)
 *   (keeps polling; cooperative members keep consuming what they own)
 *                 ◄─── handle.rebalanceStarted()   when another member's change starts a rebalance
 *                 ◄─── outcome: assigned | rejoin | removed, once every member has joined, the leader's
 *                      assignor has run and the new generation is durable in __consumer_offsets
 *   leave() / detach()                       a dynamic member leaves; a static member detaches and keeps
 *                                            its place for sessionTimeoutMs
 *                 ◄─── handle.removed(reason)  evicted (rebalance or session timeout, group deleted)
 *                 ◄─── handle.fenced()         a newer object took its static instance id
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import type { TopicPartition } from './topic-partition'

/**
 * Why a member left its group without asking: the coordinator removed it (rebalance or session timeout,
 * group deleted), or the member itself gave up its place because it stopped polling (pollTimeout).
 */
export type RemovalReason = 'rebalanceTimeout' | 'sessionTimeout' | 'groupDeleted' | 'pollTimeout'

/** What the coordinator calls on a live member object. Each call is synchronous and only records the news. */
export interface MemberHandle {
  /** A rebalance began: the member should join again at its next poll round. */
  rebalanceStarted(): void
  /** The member is no longer in the group: its partitions are lost (others may already own them). */
  removed(reason: RemovalReason): void
  /** Another object joined with this member's groupInstanceId; this one may not act for the group again. */
  fenced(): void
}

export interface JoinRequest {
  /** The member's id from an earlier join; null for a member joining for the first time (or after removal). */
  readonly memberId: string | null
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly rebalanceTimeoutMs: number
  readonly sessionTimeoutMs: number
  /** Subscribed topic names (a pattern already resolved). */
  readonly topics: readonly string[]
  readonly protocols: readonly AssignmentStrategy[]
  /** What the member owns now (cooperative) or owned before revoking (eager), for the sticky assignors. */
  readonly ownedPartitions: readonly TopicPartition[]
  readonly ownedGeneration: number
  readonly handle: MemberHandle
}

export type JoinOutcome =
  | {
      readonly type: 'assigned'
      readonly memberId: string
      readonly generation: number
      readonly protocol: AssignmentStrategy
      readonly leader: string
      readonly assignment: readonly TopicPartition[]
      /** Partition counts the assignment was computed with; a change later means a new rebalance. */
      readonly partitionsPerTopic: ReadonlyMap<string, number>
    }
  /** The rebalance restarted before this member got its assignment: join again. */
  | { readonly type: 'rejoin' }
  /** The member was removed before the rebalance completed. */
  | { readonly type: 'removed' }

export interface JoinTicket {
  readonly memberId: string
  readonly outcome: Promise<JoinOutcome>
}

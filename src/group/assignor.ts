/**
 * Partition assignors: pure functions from the group's members (with what each subscribes to and what
 * it owned before this rebalance) and the partition counts of the subscribed topics, to an assignment.
 * No clock, no I/O, no randomness: the same input gives the same assignment, which the property tests
 * in test/group/assignors.test.ts rely on.
 *
 * Every assignor guarantees: each partition of a subscribed topic is assigned to exactly one member
 * subscribed to its topic, and members subscribed to nothing (or to topics that do not exist) get
 * nothing. Members are ordered as Kafka's `MemberInfo.compareTo` orders them: static members (by
 * groupInstanceId) first, then dynamic members by memberId; that order breaks every tie.
 *
 * Protocols (KIP-429): with an eager assignor every member gives up all its partitions before it
 * rejoins; with a cooperative one a member keeps consuming what it owns, and the assignor never hands a
 * member a partition that another current member still owns: such a partition is left out of this
 * generation, its owner revokes it, and the follow-up rebalance assigns it.
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import type { Assignor } from './assignor-common'
import { rangeAssign } from './assignor-range'
import { roundRobinAssign } from './assignor-roundrobin'
import { cooperativeStickyAssign, stickyAssign } from './assignor-sticky'

export type { Assignment, Assignor, AssignorInput, MemberSubscription, RebalanceProtocol } from './assignor-common'

export const ASSIGNORS: Readonly<Record<AssignmentStrategy, Assignor>> = Object.freeze({
  range: { name: 'range', protocol: 'eager', assign: rangeAssign },
  roundrobin: { name: 'roundrobin', protocol: 'eager', assign: roundRobinAssign },
  sticky: { name: 'sticky', protocol: 'eager', assign: stickyAssign },
  'cooperative-sticky': { name: 'cooperative-sticky', protocol: 'cooperative', assign: cooperativeStickyAssign },
})

/**
 * The group's assignor, chosen as Kafka's `ClassicGroup.selectProtocol` does: among the strategies every
 * member supports, each member votes for the one it prefers most, and the most votes win (ties go to the
 * earlier one in the first member's list, where Kafka's choice is arbitrary). Undefined when no strategy
 * is common, which the coordinator refuses at join time (Kafka's INCONSISTENT_GROUP_PROTOCOL).
 */
export function selectAssignor(preferences: readonly (readonly AssignmentStrategy[])[]): Assignor | undefined {
  const [first, ...rest] = preferences
  if (first === undefined) return undefined
  const candidates = first.filter((s) => rest.every((p) => p.includes(s)))
  if (candidates.length === 0) return undefined
  const votes = new Map(candidates.map((c) => [c, 0]))
  for (const p of preferences) {
    const vote = p.find((s) => votes.has(s))!
    votes.set(vote, votes.get(vote)! + 1)
  }
  let best = candidates[0]!
  for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c
  return ASSIGNORS[best]
}

/**
 * The sticky assignors (Kafka's StickyAssignor and CooperativeStickyAssignor, KIP-54 and KIP-429): a
 * balanced assignment that moves as few previously owned partitions as possible.
 *
 * The algorithm, in three steps:
 *   1. Keep what members owned. Each partition a member reports owning stays with it if the topic still
 *      has that partition and the member still subscribes to the topic. When two members claim the same
 *      partition, the claim from the higher generation wins (a member that missed a rebalance reports a
 *      stale generation), then member order.
 *   2. Place the partitions nobody kept, most constrained first (fewest eligible members), each with the
 *      eligible member that has the fewest partitions.
 *   3. Balance: while some partition can move from its owner to an eligible member with at least two
 *      fewer partitions, move it (from the fullest member first). Each move lowers the sum of squared
 *      counts, so the loop ends.
 *
 * With identical subscriptions the result is balanced within one, and the number of kept partitions is
 * the maximum any balanced assignment allows: a member keeps min(owned, quota), where the larger quotas
 * (one above the floor) go to the members that owned the most (test/group/assignors.test.ts checks this
 * bound on random inputs). With different subscriptions the result is balanced in Kafka's sense: no
 * partition can move to an eligible member with two or more fewer partitions.
 *
 * The cooperative variant then withholds every partition whose assignee differs from a current member
 * that still claims it: the claimant revokes it first, and the follow-up rebalance hands it over.
 */
import {
  compareMembers,
  emptyAssignment,
  subscribedTopics,
  type Assignment,
  type AssignorInput,
  type MemberSubscription,
} from './assignor-common'
import { parseTpKey, sortTopicPartitions, tpKey, type TopicPartitionKey } from './topic-partition'

export function stickyAssign(input: AssignorInput): Assignment {
  return balancedSticky(input).assignment
}

export function cooperativeStickyAssign(input: AssignorInput): Assignment {
  const { assignment, claims } = balancedSticky(input)
  for (const [memberId, partitions] of assignment) {
    assignment.set(
      memberId,
      partitions.filter((tp) => {
        const claimant = claims.get(tpKey(tp.topic, tp.partition))
        return claimant === undefined || claimant === memberId
      }),
    )
  }
  return assignment
}

interface StickyResult {
  assignment: Assignment
  /** Partition → the current member whose claim on it won (whether or not it could keep it). */
  claims: Map<TopicPartitionKey, string>
}

function balancedSticky(input: AssignorInput): StickyResult {
  const members = [...input.members].sort(compareMembers)
  const order = new Map(members.map((m, i) => [m.memberId, i]))
  const eligible = eligibleMembers(input, members)
  const claims = resolveClaims(input, members)

  // 1. Keep valid claims.
  const owned = new Map<string, Set<TopicPartitionKey>>(members.map((m) => [m.memberId, new Set()]))
  const ownerOf = new Map<TopicPartitionKey, string>()
  for (const [key, memberId] of claims) {
    const { topic } = parseTpKey(key)
    if (eligible.get(topic)?.includes(memberId) !== true) continue
    owned.get(memberId)!.add(key)
    ownerOf.set(key, memberId)
  }
  const count = (memberId: string) => owned.get(memberId)!.size
  const fewest = (candidates: readonly string[]) =>
    candidates.reduce((best, m) => (count(m) < count(best) || (count(m) === count(best) && order.get(m)! < order.get(best)!) ? m : best))

  // 2. Place the rest, most constrained partitions first.
  const unplaced: { key: TopicPartitionKey; topic: string }[] = []
  for (const topic of eligible.keys()) {
    for (let p = 0; p < input.partitionsPerTopic.get(topic)!; p++) {
      const key = tpKey(topic, p)
      if (!ownerOf.has(key)) unplaced.push({ key, topic })
    }
  }
  unplaced.sort((a, b) => eligible.get(a.topic)!.length - eligible.get(b.topic)!.length)
  for (const { key, topic } of unplaced) {
    const to = fewest(eligible.get(topic)!)
    owned.get(to)!.add(key)
    ownerOf.set(key, to)
  }

  // 3. Balance.
  balance(members, owned, eligible, count, fewest)

  const assignment = emptyAssignment(input.members)
  for (const [memberId, keys] of owned) assignment.set(memberId, sortTopicPartitions([...keys].map(parseTpKey)))
  return { assignment, claims }
}

/** Subscribed, existing topic → its subscribers in member order. Insertion order is topic order. */
function eligibleMembers(input: AssignorInput, members: readonly MemberSubscription[]): Map<string, string[]> {
  const eligible = new Map<string, string[]>()
  for (const topic of subscribedTopics(input)) eligible.set(topic, members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId))
  return eligible
}

/** Who each claimed, existing partition belongs to: highest generation first, then member order. */
function resolveClaims(input: AssignorInput, members: readonly MemberSubscription[]): Map<TopicPartitionKey, string> {
  const claims = new Map<TopicPartitionKey, string>()
  const byGeneration = [...members].sort((a, b) => b.generation - a.generation || compareMembers(a, b))
  for (const member of byGeneration) {
    for (const tp of member.ownedPartitions) {
      const partitions = input.partitionsPerTopic.get(tp.topic)
      if (partitions === undefined || tp.partition < 0 || tp.partition >= partitions) continue
      const key = tpKey(tp.topic, tp.partition)
      if (!claims.has(key)) claims.set(key, member.memberId)
    }
  }
  return claims
}

/**
 * Moves partitions from the fullest members to eligible members with at least two fewer, until none can
 * move. The partitions a member received in step 2 or by an earlier move are tried first (moving them
 * again costs no stickiness), then the ones it kept, last claimed first.
 */
function balance(
  members: readonly MemberSubscription[],
  owned: Map<string, Set<TopicPartitionKey>>,
  eligible: Map<string, string[]>,
  count: (memberId: string) => number,
  fewest: (candidates: readonly string[]) => string,
): void {
  for (;;) {
    const byCount = members.map((m) => m.memberId).sort((a, b) => count(b) - count(a))
    let moved = false
    for (const from of byCount) {
      for (const key of [...owned.get(from)!].reverse()) {
        const to = fewest(eligible.get(parseTpKey(key).topic)!)
        if (count(to) + 1 >= count(from)) continue
        owned.get(from)!.delete(key)
        owned.get(to)!.add(key)
        moved = true
        break
      }
      if (moved) break
    }
    if (!moved) return
  }
}

/**
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by topic then partition,
 * is dealt to the members in turn (in member order), skipping members not subscribed to its topic. With
 * identical subscriptions the counts differ by at most one.
 */
import { compareMembers, emptyAssignment, subscribedTopics, type Assignment, type AssignorInput } from './assignor-common'

export function roundRobinAssign(input: AssignorInput): Assignment {
  const assignment = emptyAssignment(input.members)
  const members = [...input.members].sort(compareMembers)
  if (members.length === 0) return assignment
  let next = 0
  for (const topic of subscribedTopics(input)) {
    const partitions = input.partitionsPerTopic.get(topic)!
    for (let partition = 0; partition < partitions; partition++) {
      // Some member subscribes to `topic` (it came from a subscription), so this loop ends within one turn.
      while (!members[next % members.length]!.topics.includes(topic)) next++
      assignment.get(members[next % members.length]!.memberId)!.push({ topic, partition })
      next++
    }
  }
  return assignment
}

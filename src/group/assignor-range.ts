/**
 * Kafka's RangeAssignor: topic by topic, the members subscribed to the topic (in member order) split its
 * partitions into contiguous ranges; the first `partitions % members` members get one extra. Because
 * every topic starts again from the first member, several topics pile their extras onto the same
 * members: range is balanced per topic, not across topics (which is why co-partitioned joins like it).
 */
import { compareMembers, emptyAssignment, subscribedTopics, type Assignment, type AssignorInput } from './assignor-common'
import { sortTopicPartitions } from './topic-partition'

export function rangeAssign(input: AssignorInput): Assignment {
  const assignment = emptyAssignment(input.members)
  const members = [...input.members].sort(compareMembers)
  for (const topic of subscribedTopics(input)) {
    const consumers = members.filter((m) => m.topics.includes(topic))
    const partitions = input.partitionsPerTopic.get(topic)!
    const perConsumer = Math.floor(partitions / consumers.length)
    const extra = partitions % consumers.length
    consumers.forEach((member, i) => {
      const start = perConsumer * i + Math.min(i, extra)
      const length = perConsumer + (i < extra ? 1 : 0)
      const list = assignment.get(member.memberId)!
      for (let p = start; p < start + length; p++) list.push({ topic, partition: p })
    })
  }
  for (const [id, list] of assignment) assignment.set(id, sortTopicPartitions(list))
  return assignment
}

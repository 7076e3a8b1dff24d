/**
 * Topic-partition values shared by the group layer: the assignors, the coordinator and describe().
 *
 * A partition is named by a string key `<topic>:<partition>` where a map needs one. The key is unambiguous
 * because Kafka topic names cannot contain ':' (ASCII letters, digits, '.', '_' and '-' only).
 */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export type TopicPartitionKey = string

export function tpKey(topic: string, partition: number): TopicPartitionKey {
  return `${topic}:${partition}`
}

export function keyOf(tp: TopicPartition): TopicPartitionKey {
  return tpKey(tp.topic, tp.partition)
}

export function parseTpKey(key: TopicPartitionKey): TopicPartition {
  const i = key.lastIndexOf(':')
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) }
}

/** Topic, then partition: the order Kafka's assignors and tools list partitions in. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition
}

export function sortTopicPartitions<T extends TopicPartition>(tps: Iterable<T>): T[] {
  return [...tps].sort(compareTopicPartitions)
}

/** Groups partitions by topic (the consumer protocol's `[topic, [partition]]` shape), topics and partitions sorted. */
export function groupByTopic(tps: Iterable<TopicPartition>): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>()
  for (const tp of sortTopicPartitions(tps)) {
    const list = byTopic.get(tp.topic)
    if (list === undefined) byTopic.set(tp.topic, [tp.partition])
    else list.push(tp.partition)
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
}

/** The inverse of `groupByTopic`. */
export function flattenTopicPartitions(groups: readonly { topic: string; partitions: readonly number[] }[]): TopicPartition[] {
  return sortTopicPartitions(groups.flatMap((g) => g.partitions.map((partition) => ({ topic: g.topic, partition }))))
}

/** Whether two topic lists name the same set of topics. */
export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const setA = new Set(a)
  const setB = new Set(b)
  return setA.size === setB.size && [...setA].every((t) => setB.has(t))
}

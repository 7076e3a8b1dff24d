/**
 * Which committed offsets have expired (Kafka's OffsetExpirationCondition and `cleanupExpiredOffsets`,
 * KIP-211). Pure: the coordinator writes the tombstones.
 *
 * - An Empty group (or one that only ever committed offsets) loses an offset once offsetsRetentionMs
 *   has passed since the later of the time the group became Empty (its metadata's
 *   currentStateTimestamp) and the offset's commit time. Kafka counts from currentStateTimestamp alone,
 *   so an offset committed into an already long-Empty group (resetOffsets) can expire at the next check;
 *   kafkalite gives such an offset its full retention.
 * - A group with members loses only the offsets of topics that none of its members subscribes to, once
 *   offsetsRetentionMs has passed since their commit.
 * - A group in the middle of a rebalance loses nothing (its subscriptions are in flux).
 * - An offset written with an explicit expire timestamp (v1 records of old clients) expires at it.
 */
import type { GroupState } from './group-state'
import type { StoredGroup } from './offsets-state'
import { parseTpKey, type TopicPartition } from './topic-partition'

export function expiredOffsets(
  stored: Readonly<StoredGroup>,
  state: GroupState,
  subscribedTopics: ReadonlySet<string>,
  now: number,
  offsetsRetentionMs: number,
): TopicPartition[] {
  if (state !== 'Empty' && state !== 'Stable') return []
  const emptySince = stored.metadata?.currentStateTimestamp ?? -1
  const expired: TopicPartition[] = []
  for (const [key, committed] of stored.offsets) {
    const tp = parseTpKey(key)
    if (committed.expireTimestamp >= 0) {
      if (now >= committed.expireTimestamp) expired.push(tp)
      continue
    }
    if (state === 'Stable' && subscribedTopics.has(tp.topic)) continue
    const base = state === 'Empty' ? Math.max(emptySince, committed.commitTimestamp) : committed.commitTimestamp
    if (now - base >= offsetsRetentionMs) expired.push(tp)
  }
  return expired
}

/**
 * `group.describe()`: what `kafka-consumer-groups.sh --describe` shows, plus what it does not — how far
 * each partition's unconsumed records are from being deleted by retention. A consumer that falls behind
 * retention loses records without any error in Kafka; here the distance is a number to alert on, and a
 * loss that already happened is a number too.
 *
 * Per partition of every topic the group subscribes to or has committed offsets for:
 * - committed offset (and metadata), log start offset, high watermark, log end offset;
 * - lag: high watermark − committed offset (records a consumer could read and the group has not
 *   committed), null without a committed offset;
 * - the oldest unconsumed record (at the committed offset, or the log start if retention already passed
 *   it): its timestamp and age;
 * - retention: the time left before time-based retention may delete that record's segment
 *   (segment's largest timestamp + retentionMs − now; the active segment is never deleted while active,
 *   so there it is a lower bound), and the bytes that may still be appended before size-based retention
 *   deletes it; null where the topic does not delete (compact only, or infinite retention);
 * - recordsLostToRetention: offsets between the committed offset and the log start offset, i.e.
 *   deleted before the group consumed them;
 * - skippedRecords / offsetResets: what members' autoOffsetReset skipped since this process opened the
 *   directory (from the consumers' reset events).
 */
import type { AssignmentStrategy } from '../config/consumer-config'
import { decodeRecords, readBatchHeader } from '../codec/record-batch'
import type { Engine } from '../engine/engine'
import type { PartitionLog } from '../storage/partition-log'
import type { Offset, TimestampMs } from '../util/types'
import type { GroupCoordinator } from './coordinator'
import type { GroupState } from './group-state'
import { keyOf, parseTpKey, sortTopicPartitions, tpKey, type TopicPartition } from './topic-partition'

export interface MemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** Subscribed topics (a pattern resolved to names) as of the member's last join. */
  topics: string[]
  /** Partitions in the current generation's assignment. */
  assignment: TopicPartition[]
  /** True when the member has no partitions (more members than partitions). */
  idle: boolean
  /** 'active': its object is open and polling; 'detached': a static member keeping its place until its session times out. */
  status: 'active' | 'detached'
}

export interface PartitionLag {
  topic: string
  partition: number
  /** The member whose assignment holds the partition; null if none. */
  owner: string | null
  committedOffset: Offset | null
  committedMetadata: string | null
  logStartOffset: Offset
  highWatermark: Offset
  logEndOffset: Offset
  /** highWatermark − committedOffset (at least 0); null without a committed offset. */
  lag: number | null
  oldestUnconsumedTimestamp: TimestampMs | null
  oldestUnconsumedAgeMs: number | null
  /** Time before time-based retention may delete the oldest unconsumed record; null if it never will. Negative: overdue. */
  retentionTimeLeftMs: number | null
  /** Bytes that may still be appended before size-based retention deletes it; null if it never will. */
  retentionBytesLeft: number | null
  /** Offsets deleted by retention before the group consumed them (committed offset below the log start). */
  recordsLostToRetention: number
  /** Offsets skipped by autoOffsetReset resets of this group's members (since the directory was opened). */
  skippedRecords: number
  offsetResets: number
}

export interface GroupDescription {
  groupId: string
  state: GroupState
  protocolType: string
  /** The assignor of the current generation; null while Empty. */
  assignor: AssignmentStrategy | null
  generation: number
  leader: string | null
  members: MemberDescription[]
  partitions: PartitionLag[]
  /** Sum of the partitions' lag (partitions without a committed offset count 0). */
  totalLag: number
}

export function describeGroup(coordinator: GroupCoordinator, groupId: string): GroupDescription {
  const engine = coordinator.engine
  const group = coordinator.group(groupId)
  const stored = coordinator.storedGroup(groupId)
  const members: MemberDescription[] = [...(group?.members.values() ?? [])].map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    topics: [...m.topics].sort(),
    assignment: sortTopicPartitions(m.assignment),
    idle: m.assignment.length === 0,
    status: m.attached ? 'active' : 'detached',
  }))
  const owners = new Map<string, string>()
  for (const m of members) for (const tp of m.assignment) owners.set(keyOf(tp), m.memberId)

  const topics = new Set(members.flatMap((m) => m.topics))
  for (const key of stored?.offsets.keys() ?? []) topics.add(parseTpKey(key).topic)
  const resets = coordinator.offsetResets(groupId)
  const partitions: PartitionLag[] = []
  for (const topic of [...topics].sort()) {
    if (!engine.hasTopic(topic)) continue
    for (let partition = 0; partition < engine.partitionCount(topic); partition++) {
      const committed = coordinator.committed(groupId, topic, partition)
      const reset = resets.get(tpKey(topic, partition))
      partitions.push({
        topic,
        partition,
        owner: owners.get(tpKey(topic, partition)) ?? null,
        committedOffset: committed?.offset ?? null,
        committedMetadata: committed?.metadata ?? null,
        ...lagAgainstRetention(engine, engine.log(topic, partition), committed?.offset ?? null),
        skippedRecords: reset?.recordsSkipped ?? 0,
        offsetResets: reset?.resets ?? 0,
      })
    }
  }
  const state = coordinator.groupState(groupId)
  return {
    groupId,
    state,
    protocolType: stored?.metadata?.protocolType ?? 'consumer',
    assignor: group?.protocol ?? null,
    generation: group?.generation ?? stored?.metadata?.generation ?? 0,
    leader: group?.leader ?? null,
    members,
    partitions,
    totalLag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
  }
}

type LagFields = Pick<
  PartitionLag,
  | 'logStartOffset'
  | 'highWatermark'
  | 'logEndOffset'
  | 'lag'
  | 'oldestUnconsumedTimestamp'
  | 'oldestUnconsumedAgeMs'
  | 'retentionTimeLeftMs'
  | 'retentionBytesLeft'
  | 'recordsLostToRetention'
>

function lagAgainstRetention(engine: Engine, log: PartitionLog, committed: Offset | null): LagFields {
  const now = engine.clock.now()
  const { logStartOffset, highWatermark, logEndOffset } = log
  const base: LagFields = {
    logStartOffset,
    highWatermark,
    logEndOffset,
    lag: committed === null ? null : Math.max(0, highWatermark - committed),
    oldestUnconsumedTimestamp: null,
    oldestUnconsumedAgeMs: null,
    retentionTimeLeftMs: null,
    retentionBytesLeft: null,
    recordsLostToRetention: committed === null ? 0 : Math.max(0, logStartOffset - committed),
  }
  if (committed === null) return base
  const oldest = Math.max(committed, logStartOffset)
  if (oldest >= highWatermark) return base
  const timestamp = timestampAt(log, oldest)
  const config = engine.topicConfig(log.topic)
  const deletes = config.cleanupPolicy.includes('delete')
  const segments = log.segmentList
  let index = segments.length - 1
  while (index > 0 && segments[index]!.baseOffset > oldest) index--
  const segment = segments[index]!
  const sizeThrough = segments.slice(0, index + 1).reduce((sum, s) => sum + s.size, 0)
  return {
    ...base,
    oldestUnconsumedTimestamp: timestamp,
    oldestUnconsumedAgeMs: timestamp === null ? null : now - timestamp,
    retentionTimeLeftMs: deletes && config.retentionMs >= 0 && segment.largestTimestamp >= 0 ? segment.largestTimestamp + config.retentionMs - now : null,
    // Size retention deletes the oldest segments while the log minus them stays at or above retentionBytes.
    retentionBytesLeft: deletes && config.retentionBytes >= 0 ? config.retentionBytes - (log.size - sizeThrough) : null,
  }
}

/** The timestamp of the first record at or after `offset` in the batch that holds it (null if none there). */
function timestampAt(log: PartitionLog, offset: Offset): TimestampMs | null {
  const { records } = log.read(offset, 1)
  if (records.length === 0) return null
  const header = readBatchHeader(records, 0)
  if (header.timestampType === 'LogAppendTime') return header.maxTimestamp
  for (const r of decodeRecords(records, 0, { maxDecompressedBytes: log.logConfig.maxDecompressedBatchBytes }, { topic: log.topic, partition: log.partition })) {
    if (r.offset >= offset) return r.timestamp
  }
  return null
}

/**
 * The state of `__consumer_offsets`, materialized: for each group, its last GroupMetadataValue and its
 * committed offsets (Kafka's OffsetMetadataManager and the stored half of GroupMetadataManager).
 *
 * State as replayed records (STYLE 5): `replay` is the only method that changes this state. The
 * coordinator calls it for every record it appends, right after the append, and the loader calls it for
 * every record in the log when a data directory is opened, so what a reopen rebuilds is exactly what the
 * live process held. A tombstone removes; the later of two records for a key wins, as compaction keeps.
 *
 * Invariant: a group is present while it has metadata or at least one committed offset (a group that
 * only ever committed offsets, Kafka's "simple" group, is a group without metadata).
 */
import type { CommittedOffset, DecodedOffsetsRecord, GroupSnapshot } from './offsets-records'
import { tpKey, type TopicPartitionKey } from './topic-partition'

export interface StoredGroup {
  metadata: GroupSnapshot | undefined
  readonly offsets: Map<TopicPartitionKey, CommittedOffset>
}

/** What a replayed record changed; the coordinator reacts to group metadata changes. */
export type ReplayEffect =
  | { readonly type: 'offset'; readonly group: string }
  | { readonly type: 'groupMetadata'; readonly group: string; readonly snapshot: GroupSnapshot | null }
  | { readonly type: 'none' }

export class OffsetsTopicState {
  private readonly groups = new Map<string, StoredGroup>()

  /** Applies one record. Synchronous; the caller has appended it (live) or read it from the log (load). */
  replay(record: DecodedOffsetsRecord): ReplayEffect {
    if (record.type === 'ignored') return { type: 'none' }
    const group = this.groups.get(record.group) ?? { metadata: undefined, offsets: new Map() }
    if (record.type === 'offsetCommit') {
      const key = tpKey(record.topic, record.partition)
      if (record.value === null) group.offsets.delete(key)
      else group.offsets.set(key, record.value)
    } else {
      group.metadata = record.value ?? undefined
    }
    if (group.metadata === undefined && group.offsets.size === 0) this.groups.delete(record.group)
    else this.groups.set(record.group, group)
    return record.type === 'offsetCommit' ? { type: 'offset', group: record.group } : { type: 'groupMetadata', group: record.group, snapshot: record.value }
  }

  group(groupId: string): Readonly<StoredGroup> | undefined {
    return this.groups.get(groupId)
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(groupId)?.offsets.get(tpKey(topic, partition))
  }

  groupIds(): string[] {
    return [...this.groups.keys()].sort()
  }
}

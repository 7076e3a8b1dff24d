/**
 * `cleaner-offset-checkpoint` at the data directory root (Kafka's `LogCleanerManager.offsetCheckpointFile`):
 * per partition, the first dirty offset, i.e. where the next compaction round starts mapping keys.
 * Kafka's offset-checkpoint text format (codec/checkpoint.ts), replaced atomically.
 *
 * It is an optimisation, not a source of truth: a missing, stale or unreadable entry only makes the
 * next round map more of the log (the cleaner treats an offset outside the log as "everything is
 * dirty"). It is written after a round's swaps are durable, never before, so it never claims more than
 * was cleaned.
 */
import { decodeOffsetCheckpoint, encodeOffsetCheckpoint, type OffsetCheckpointEntry } from '../codec/checkpoint'
import { joinPath, type FileSystem } from '../io/file-system'
import type { Offset } from '../util/types'

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint'

export function partitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

export class CleanerCheckpoint {
  private readonly offsets = new Map<string, OffsetCheckpointEntry>()
  /** Why the file on disk was ignored, if it was (for the cleaner's report). */
  readonly problem: string | undefined

  /** Reads the checkpoint of `dataDir`, or starts empty (no directory: kept in memory only). */
  constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string | undefined,
  ) {
    if (dataDir === undefined) return
    const path = joinPath(dataDir, CLEANER_OFFSET_CHECKPOINT)
    if (!fs.exists(path)) return
    try {
      for (const e of decodeOffsetCheckpoint(fs.readFile(path))) this.offsets.set(partitionName(e.topic, e.partition), e)
    } catch (e) {
      this.problem = `${CLEANER_OFFSET_CHECKPOINT} is unreadable (${(e as Error).message}); every compacted partition is treated as dirty`
    }
  }

  get(topic: string, partition: number): Offset | undefined {
    return this.offsets.get(partitionName(topic, partition))?.offset
  }

  set(topic: string, partition: number, offset: Offset): void {
    this.offsets.set(partitionName(topic, partition), { topic, partition, offset })
  }

  delete(topic: string, partition: number): void {
    this.offsets.delete(partitionName(topic, partition))
  }

  /** Drops entries of partitions that no longer exist (deleted topics). */
  retain(exists: (topic: string, partition: number) => boolean): void {
    for (const [key, e] of this.offsets) if (!exists(e.topic, e.partition)) this.offsets.delete(key)
  }

  /** Writes the file (tmp, fsync, rename, fsync dir). */
  async write(): Promise<void> {
    if (this.dataDir === undefined) return
    const entries = [...this.offsets.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    await this.fs.writeFileAtomic(joinPath(this.dataDir, CLEANER_OFFSET_CHECKPOINT), encodeOffsetCheckpoint(entries))
  }
}

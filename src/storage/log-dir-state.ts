/**
 * The files at the root of a data directory that describe all partition logs in it (the storage half
 * of Kafka's LogManager), in Kafka's own formats:
 *
 *   .kafka_cleanshutdown              JSON {"version":0,"brokerEpoch":0}; its existence means the
 *                                     previous process closed every log cleanly. Removed at open, before
 *                                     the first append, so a crash after open is never taken for clean.
 *   recovery-point-offset-checkpoint  `topic partition offset` lines: below the offset, the log is
 *                                     fsynced and valid; recovery scans only what lies past it.
 *   log-start-offset-checkpoint       `topic partition offset` lines, only for partitions whose log start
 *                                     offset is past their first segment's base offset (as Kafka writes it).
 *
 * Checkpoints are replaced atomically (tmp + fsync + rename + dir fsync). A checkpoint that cannot be
 * parsed is reported and treated as absent, which makes recovery scan every segment: slower, never wrong.
 */
import { decodeOffsetCheckpoint, encodeOffsetCheckpoint, type OffsetCheckpointEntry } from '../codec/checkpoint'
import { joinPath, type FileSystem } from '../io/file-system'
import type { Offset } from '../util/types'

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint'
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint'

export type OffsetsByPartition = Map<string, Offset>

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

export interface PartitionOffsets {
  topic: string
  partition: number
  recoveryPoint: Offset
  logStartOffset: Offset
  firstSegmentBaseOffset: Offset
}

export class LogDirState {
  /** Problems found while reading the root files (garbage checkpoints), for the open report. */
  readonly problems: string[] = []

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
  ) {}

  hadCleanShutdown(): boolean {
    return this.fs.exists(joinPath(this.dir, CLEAN_SHUTDOWN_FILE))
  }

  readRecoveryPoints(): OffsetsByPartition {
    return this.readCheckpoint(RECOVERY_POINT_CHECKPOINT)
  }

  readLogStartOffsets(): OffsetsByPartition {
    return this.readCheckpoint(LOG_START_OFFSET_CHECKPOINT)
  }

  /** Removes the clean-shutdown marker durably; call once at open, before any append. */
  async markOpen(): Promise<void> {
    const marker = joinPath(this.dir, CLEAN_SHUTDOWN_FILE)
    if (!this.fs.exists(marker)) return
    this.fs.unlink(marker)
    await this.fs.syncDir(this.dir)
  }

  /** Writes both checkpoints for the given logs. */
  async writeCheckpoints(logs: readonly PartitionOffsets[]): Promise<void> {
    const recovery: OffsetCheckpointEntry[] = logs.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.recoveryPoint }))
    const starts: OffsetCheckpointEntry[] = logs
      .filter((l) => l.logStartOffset > l.firstSegmentBaseOffset)
      .map((l) => ({ topic: l.topic, partition: l.partition, offset: l.logStartOffset }))
    await this.fs.writeFileAtomic(joinPath(this.dir, RECOVERY_POINT_CHECKPOINT), encodeOffsetCheckpoint(recovery))
    await this.fs.writeFileAtomic(joinPath(this.dir, LOG_START_OFFSET_CHECKPOINT), encodeOffsetCheckpoint(starts))
  }

  /** Writes the clean-shutdown marker; call last, after every log is closed and checkpointed. */
  async markCleanShutdown(): Promise<void> {
    await this.fs.writeFileAtomic(joinPath(this.dir, CLEAN_SHUTDOWN_FILE), Buffer.from('{"version":0,"brokerEpoch":0}'))
  }

  private readCheckpoint(name: string): OffsetsByPartition {
    const path = joinPath(this.dir, name)
    const out: OffsetsByPartition = new Map()
    if (!this.fs.exists(path)) return out
    try {
      for (const e of decodeOffsetCheckpoint(this.fs.readFile(path))) out.set(partitionKey(e.topic, e.partition), e.offset)
    } catch (e) {
      this.problems.push(`${name} is unreadable (${(e as Error).message}); treating it as absent`)
      out.clear()
    }
    return out
  }
}

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
 *   kafkalite-clean-shutdown.json     kafkalite's own: per partition, the log end offset and the last
 *                                     segment's base offset and length at the clean close, so that a clean
 *                                     open can check each log's end by file length without reading it.
 *                                     Written just before the marker and removed with it.
 *
 * Checkpoints are replaced atomically (tmp + fsync + rename + dir fsync). A checkpoint that cannot be
 * parsed is reported and treated as absent, which makes recovery scan every segment: slower, never wrong.
 */
import { decodeOffsetCheckpoint, encodeOffsetCheckpoint, type OffsetCheckpointEntry } from '../codec/checkpoint'
import { joinPath, type FileSystem } from '../io/file-system'
import type { Offset } from '../util/types'
import { partitionDirName } from './file-names'
import type { CleanShutdownState } from './recovery'

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint'
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint'
export const CLEAN_SHUTDOWN_STATE_FILE = 'kafkalite-clean-shutdown.json'

export type OffsetsByPartition = Map<string, Offset>

/** Partitions are keyed by their directory name, `<topic>-<partition>`. */
export const partitionKey = partitionDirName

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

  /** Per partition, what the last clean close recorded about its log end (empty after an unclean stop). */
  readCleanShutdownStates(): Map<string, CleanShutdownState> {
    const out = new Map<string, CleanShutdownState>()
    const path = joinPath(this.dir, CLEAN_SHUTDOWN_STATE_FILE)
    if (!this.hadCleanShutdown() || !this.fs.exists(path)) return out
    try {
      const parsed = JSON.parse(this.fs.readFile(path).toString('utf8')) as { partitions?: Record<string, CleanShutdownState> }
      for (const [key, state] of Object.entries(parsed.partitions ?? {})) {
        if ([state.logEndOffset, state.segmentBaseOffset, state.segmentSize].every(Number.isSafeInteger)) out.set(key, state)
      }
    } catch (e) {
      this.problems.push(`${CLEAN_SHUTDOWN_STATE_FILE} is unreadable (${(e as Error).message}); each log's end is read from its last segment`)
      out.clear()
    }
    return out
  }

  /** Removes the clean-shutdown marker (and kafkalite's record beside it) durably; once, at open, before any append. */
  async markOpen(): Promise<void> {
    let changed = false
    for (const name of [CLEAN_SHUTDOWN_FILE, CLEAN_SHUTDOWN_STATE_FILE]) {
      const path = joinPath(this.dir, name)
      if (!this.fs.exists(path)) continue
      this.fs.unlink(path)
      changed = true
    }
    if (changed) await this.fs.syncDir(this.dir)
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

  /**
   * Writes kafkalite's record of each log's end, then Kafka's clean-shutdown marker; call last, after
   * every log is closed and checkpointed.
   */
  async markCleanShutdown(states: ReadonlyMap<string, CleanShutdownState> = new Map()): Promise<void> {
    const record = { version: 0, partitions: Object.fromEntries(states) }
    await this.fs.writeFileAtomic(joinPath(this.dir, CLEAN_SHUTDOWN_STATE_FILE), Buffer.from(JSON.stringify(record)))
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

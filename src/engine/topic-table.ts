/**
 * The live topics of a data directory: each registered topic with its resolved config and one open
 * PartitionLog per partition, kept in step with the registry file and the partition directories.
 *
 * Invariants:
 * - Every topic in the table is in the registry file with the same id, partition count and overrides,
 *   and has exactly `partitions` open logs, partition i at index i.
 * - The registry file is written after the directories of what it adds exist (with `partition.metadata`
 *   and durable directory entries) and before the directories of what it removes are touched. So a crash
 *   at any point leaves either the old or the new topic set on disk, plus unregistered debris that
 *   `scanRoot` recognises and the next open removes.
 * - A change that fails before the registry write leaves the table as it was and removes what it made.
 *
 * Concurrency: every mutating method awaits between deciding and committing, so the caller (the engine)
 * runs them one at a time under its admin mutex. Reads (`get`, `names`) are synchronous and see only
 * committed state: a topic appears in the table after its registry write, and leaves it before.
 */
import type { TopicConfig } from '../config/index'
import { KafkaliteError } from '../errors/index'
import type { Clock } from '../io/clock'
import { joinPath, type FileSystem } from '../io/file-system'
import { PartitionLog } from '../storage/partition-log'
import type { CleanShutdownState } from '../storage/recovery'
import { assert } from '../util/assert'
import { partitionDir, deletePartitionDir } from './data-dir'
import { decodePartitionMetadata, encodePartitionMetadata, PARTITION_METADATA_FILE, type TopicId } from './topic-id'
import { writeTopicRegistry, type TopicConfigOverrides, type TopicRecord } from './topic-registry'

export interface LiveTopic {
  readonly record: TopicRecord
  readonly config: Readonly<TopicConfig>
  readonly logs: readonly PartitionLog[]
}

/** What the log-dir checkpoints say about one partition when the data directory is opened. */
export interface PartitionRecoveryState {
  recoveryPoint: number | undefined
  logStartOffset: number | undefined
  hadCleanShutdown: boolean
  cleanShutdownState?: CleanShutdownState | undefined
}

export class TopicTable {
  private readonly topics = new Map<string, LiveTopic>()

  constructor(
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly root: string,
  ) {}

  get(name: string): LiveTopic | undefined {
    return this.topics.get(name)
  }

  names(): string[] {
    return [...this.topics.keys()].sort()
  }

  *logs(): IterableIterator<PartitionLog> {
    for (const t of this.topics.values()) yield* t.logs
  }

  /**
   * Opens the logs of a registered topic at startup (recovery runs here, see storage/recovery.ts).
   * Returns problems with the topic's directories for the open report. On failure, the logs opened so
   * far for this topic are closed; the caller closes earlier topics with `closeAll`.
   */
  async load(record: TopicRecord, config: Readonly<TopicConfig>, recovery: (partition: number) => PartitionRecoveryState): Promise<string[]> {
    const problems: string[] = []
    const logs: PartitionLog[] = []
    try {
      for (let p = 0; p < record.partitions; p++) {
        const dir = partitionDir(this.root, record.name, p)
        if (!this.fs.exists(dir)) problems.push(`${record.name}-${p}: partition directory was missing; starting an empty log`)
        logs.push(await this.openLog(record.name, p, config, recovery(p)))
        problems.push(...(await this.checkPartitionMetadata(record.name, p, record.topicId)))
      }
    } catch (e) {
      await closeQuietly(logs)
      throw e
    }
    this.topics.set(record.name, { record, config, logs })
    return problems
  }

  /** Creates a topic: directories and logs first, the registry last (see the invariants). */
  async create(name: string, topicId: TopicId, partitions: number, overrides: TopicConfigOverrides, config: Readonly<TopicConfig>): Promise<void> {
    const record: TopicRecord = { name, topicId, partitions, config: overrides }
    const logs = await this.addPartitionsOnDisk(record, 0, config, [...this.records(), record])
    this.topics.set(name, { record, config, logs })
  }

  /** Adds partitions [current, newCount) to a topic. The caller has checked that newCount is larger. */
  async addPartitions(name: string, newCount: number): Promise<void> {
    const live = this.require(name)
    const record: TopicRecord = { ...live.record, partitions: newCount }
    const added = await this.addPartitionsOnDisk(record, live.record.partitions, live.config, this.records(record))
    this.topics.set(name, { record, config: live.config, logs: [...live.logs, ...added] })
  }

  /** Persists new overrides, then applies the resolved config to the running logs. */
  async alterConfig(name: string, overrides: TopicConfigOverrides, config: Readonly<TopicConfig>): Promise<void> {
    const live = this.require(name)
    const record: TopicRecord = { ...live.record, config: overrides }
    await writeTopicRegistry(this.fs, this.root, this.records(record))
    this.topics.set(name, { record, config, logs: live.logs })
    for (const log of live.logs) log.updateConfig(config)
  }

  /**
   * Deletes a topic. The registry write is the commit point: before it, a failure leaves the topic in
   * place; after it the topic is gone, and closing its logs and removing its directories is clean-up
   * whose failures are not reported to the caller, because the next open finishes it (unregistered
   * and `-delete` directories are removed there), as Kafka's asynchronous topic deletion does.
   */
  async remove(name: string): Promise<void> {
    const live = this.require(name)
    this.topics.delete(name)
    try {
      await writeTopicRegistry(this.fs, this.root, this.records())
    } catch (e) {
      this.topics.set(name, live)
      throw e
    }
    await closeQuietly(live.logs)
    for (let p = 0; p < live.record.partitions; p++) {
      try {
        await deletePartitionDir(this.fs, this.root, name, p)
      } catch {
        // Finished by the next open; see above.
      }
    }
  }

  /** Closes every log (each flushes first). Returns the first failure, after trying them all. */
  async closeAll(): Promise<unknown> {
    let failure: unknown
    for (const log of this.logs()) {
      try {
        await log.close()
      } catch (e) {
        failure ??= e
      }
    }
    return failure
  }

  /** The registry content: every live topic, with `replacement` in place of (or added to) its namesake. */
  private records(replacement?: TopicRecord): TopicRecord[] {
    const out = [...this.topics.values()].map((t) => (t.record.name === replacement?.name ? replacement : t.record))
    if (replacement !== undefined && !this.topics.has(replacement.name)) out.push(replacement)
    return out
  }

  /**
   * Makes partitions [from, record.partitions) of `record` exist: directories with `partition.metadata`,
   * a durable root entry for each, open logs; then writes `registry`. On failure everything made here is
   * closed and removed again, so the data directory is as it was.
   */
  private async addPartitionsOnDisk(record: TopicRecord, from: number, config: Readonly<TopicConfig>, registry: TopicRecord[]): Promise<PartitionLog[]> {
    this.refuseForeignDirs(record.name, from, record.partitions)
    const logs: PartitionLog[] = []
    try {
      const metadata = encodePartitionMetadata(record.topicId)
      const added = Array.from({ length: record.partitions - from }, (_, i) => partitionDir(this.root, record.name, from + i))
      for (const dir of added) this.fs.mkdirp(dir)
      // The metadata writes wait on fsyncs, so they run side by side; all of them settle before any
      // failure is handled, so that clean-up never races a write still in flight.
      const writes = await Promise.allSettled(added.map((dir) => this.fs.writeFileAtomic(joinPath(dir, PARTITION_METADATA_FILE), metadata)))
      const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected')
      if (failed !== undefined) throw failed.reason
      await this.fs.syncDir(this.root)
      const fresh: PartitionRecoveryState = { recoveryPoint: undefined, logStartOffset: undefined, hadCleanShutdown: false }
      for (let p = from; p < record.partitions; p++) logs.push(await this.openLog(record.name, p, config, fresh))
      await writeTopicRegistry(this.fs, this.root, registry)
      return logs
    } catch (e) {
      await closeQuietly(logs)
      for (let p = from; p < record.partitions; p++) {
        try {
          await deletePartitionDir(this.fs, this.root, record.name, p)
        } catch {
          // Unregistered debris: the next open removes it.
        }
      }
      throw e
    }
  }

  /**
   * A partition directory that exists although the registry does not list it was left alone at open
   * because kafkalite did not make it (see data-dir `scanRoot`). Creating into it would run recovery on
   * someone else's files, and undoing a failed create would delete them, so the create is refused.
   */
  private refuseForeignDirs(topic: string, from: number, to: number): void {
    for (let p = from; p < to; p++) {
      const dir = partitionDir(this.root, topic, p)
      if (this.fs.exists(dir)) {
        throw new KafkaliteError('ERR_INVALID_STATE', `Cannot create partition ${topic}-${p}: ${dir} already exists and is not a kafkalite partition; move it away`, {
          topic,
          partition: p,
          path: dir,
        })
      }
    }
  }

  private openLog(topic: string, partition: number, config: Readonly<TopicConfig>, recovery: PartitionRecoveryState): Promise<PartitionLog> {
    return PartitionLog.open({
      fs: this.fs,
      clock: this.clock,
      dir: partitionDir(this.root, topic, partition),
      topic,
      partition,
      config,
      recoveryPoint: recovery.recoveryPoint,
      logStartOffset: recovery.logStartOffset,
      hadCleanShutdown: recovery.hadCleanShutdown,
      cleanShutdownState: recovery.cleanShutdownState,
    })
  }

  /**
   * `partition.metadata` must name the registered topic id. A missing file (a directory the registry
   * lists but that vanished, now re-created empty) is rewritten; a different id is reported and left
   * alone, for an operator to look at, as Kafka refuses such a partition rather than guess.
   */
  private async checkPartitionMetadata(topic: string, partition: number, topicId: TopicId): Promise<string[]> {
    const path = joinPath(partitionDir(this.root, topic, partition), PARTITION_METADATA_FILE)
    if (!this.fs.exists(path)) {
      await this.fs.writeFileAtomic(path, encodePartitionMetadata(topicId))
      return [`${topic}-${partition}: ${PARTITION_METADATA_FILE} was missing; rewritten`]
    }
    try {
      const found = decodePartitionMetadata(this.fs.readFile(path), path)
      return found === topicId ? [] : [`${topic}-${partition}: ${PARTITION_METADATA_FILE} names topic id ${found}, but the registry says ${topicId}`]
    } catch (e) {
      return [`${topic}-${partition}: ${(e as Error).message}`]
    }
  }

  private require(name: string): LiveTopic {
    const live = this.topics.get(name)
    assert(live !== undefined, `topic ${name} is in the table`)
    return live
  }
}

async function closeQuietly(logs: readonly PartitionLog[]): Promise<void> {
  for (const log of logs) {
    try {
      await log.close()
    } catch {
      // Closing is best effort here: the caller is already failing or the data is being deleted.
    }
  }
}

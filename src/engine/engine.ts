/**
 * The engine: one open data directory (Kafka's LogManager plus the controller's topic metadata, for one
 * process). It owns the directory lock, the topic registry and every partition log, writes the log-dir
 * checkpoints in the background, and runs the close sequence that leaves a directory cleanly shut.
 *
 * Open, in order (each step may rely on the ones before):
 *   1. resolve the options (a bad option touches nothing on disk);
 *   2. create the directory (durably) and take its lock (ERR_LOCKED while another live opener holds it);
 *   3. load the compression codecs (zstd's WebAssembly is asynchronous);
 *   4. read the registry, the producer-id file and LogDirState (clean-shutdown marker, checkpoints);
 *   5. remove debris: `-delete` directories and partition directories the registry does not list;
 *   6. open every partition log, running recovery where the last close was not clean;
 *   7. remove the clean-shutdown marker, durably, before anything can append.
 * If any step fails, what was opened is closed again and the lock released; no marker is written.
 *
 * Close, in order: stop the checkpoint timer and the cleaner (cleaner/cleaner-manager.ts); run the close hooks (producers flush, groups leave) in
 * reverse order of registration; close every log (each flushes); write both checkpoints; write the
 * clean-shutdown marker last, and only if every log closed cleanly; release the lock.
 *
 * Concurrency: admin operations, checkpoint writes and the close sequence await between deciding and
 * acting, so they run one at a time under `admin` (a FIFO mutex). Lookups (`log`, `partitionCount`,
 * `describeTopic`) are synchronous and see only committed topic state. Appends do not take the mutex:
 * each PartitionLog is synchronous and single-writer by construction.
 */
import { hostname } from 'node:os'
import {
  resolveTopicConfig,
  topicNameProblem,
  topicNamesCollide,
  validateTopicName,
  type EngineConfig,
  type TopicConfig,
  type TopicConfigInput,
} from '../config/index'
import { loadCodecs } from '../codec/compression/index'
import { CorruptRecordError, describeValue, InvalidArgumentError, isKafkaliteError, KafkaliteError } from '../errors/index'
import type { Clock } from '../io/clock'
import { joinPath, type FileSystem } from '../io/file-system'
import { acquireDirectoryLock, type DirectoryLock } from '../io/lock'
import { LogDirState, partitionKey } from '../storage/log-dir-state'
import type { CleanShutdownState } from '../storage/recovery'
import type { PartitionLog } from '../storage/partition-log'
import { Mutex } from '../util/mutex'
import type { Offset } from '../util/types'
import { CleanerManager, type CleanableLog, type CleanerRunReport } from '../cleaner/cleaner-manager'
import type { CleanerState } from '../cleaner/cleaner-state'
import { CheckpointTask } from './checkpoint-task'
import { checkPartitionCount, checkTopicArgument, isPlainObject, unknownTopicOrPartition } from './checks'
import { deletePartitionDir, scanRoot } from './data-dir'
import { Lifecycle, type EngineState } from './lifecycle'
import { buildOpenReport, type OpenReport } from './open-report'
import { createDirDurably, resolveOptions, type EngineOptions } from './options'
import { ProducerIdAllocator, type ProducerIdAndEpoch } from './producer-ids'
import { randomTopicId, type TopicId } from './topic-id'
import { readTopicRegistry, TOPIC_REGISTRY_FILE, type TopicConfigOverrides, type TopicRecord } from './topic-registry'
import { TopicTable, type LiveTopic } from './topic-table'

export { IN_MEMORY_ROOT, type DataLocation, type EngineOptions, type EnginePorts } from './options'

/** Kafka's internal topics, which `listTopics()` leaves out unless asked (Kafka `listInternal`). */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state'])

export interface CreateTopicOptions extends TopicConfigInput {
  /** Default: the engine's `numPartitions` (1 unless configured). */
  partitions?: number
}

/** Config changes for `alterTopicConfig`: a value sets an override, `null` removes it (back to the default). */
export type TopicConfigChanges = { [K in keyof TopicConfigInput]?: TopicConfigInput[K] | null }

export interface PartitionDescription {
  partition: number
  logStartOffset: Offset
  logEndOffset: Offset
  highWatermark: Offset
  /** Bytes in `.log` files. */
  size: number
  segmentCount: number
  /** The cleaner's state for this partition (cleaner/cleaner-state.ts). */
  cleanerState: CleanerState
  /** Uncompacted share of the compactable bytes (0 unless the policy includes "compact"). */
  dirtyRatio: number
  /** When compaction last finished a round here (clock ms), or null. */
  lastCleanTimeMs: number | null
  /** Bytes compaction removed from this partition since the directory was opened. */
  bytesReclaimed: number
}

export interface TopicDescription {
  name: string
  topicId: TopicId
  partitions: PartitionDescription[]
  config: Readonly<TopicConfig>
}

export type CloseHook = () => Promise<void> | void

export class Engine {
  readonly dir: string
  readonly fs: FileSystem
  readonly clock: Clock
  readonly config: Readonly<EngineConfig>
  private readonly lifecycle: Lifecycle
  private readonly topics: TopicTable
  private readonly logDirState: LogDirState
  private readonly admin = new Mutex()
  private readonly closeHooks: CloseHook[] = []
  private lock: DirectoryLock | undefined
  private producerIds: ProducerIdAllocator | undefined
  private report: OpenReport | undefined
  private readonly checkpoints: CheckpointTask
  /** Retention and compaction for every partition (cleaner/cleaner-manager.ts). */
  private readonly cleaner: CleanerManager
  private closing: Promise<void> | undefined

  private constructor(dir: string, fs: FileSystem, clock: Clock, config: Readonly<EngineConfig>) {
    this.dir = dir
    this.fs = fs
    this.clock = clock
    this.config = config
    this.lifecycle = new Lifecycle(`Data directory ${dir}`)
    this.topics = new TopicTable(fs, clock, dir)
    this.logDirState = new LogDirState(fs, dir)
    this.checkpoints = new CheckpointTask(clock, [config.logFlushOffsetCheckpointIntervalMs, config.logFlushStartOffsetCheckpointIntervalMs], () =>
      this.admin.run(async () => {
        if (this.lifecycle.state === 'open') await this.writeCheckpoints()
      }),
    )
    this.cleaner = new CleanerManager(
      {
        fs,
        clock,
        dataDir: dir,
        logs: () => this.cleanableLogs(),
        // Retention and deleteRecords move log start offsets; close writes the checkpoint anyway.
        checkpointLogStartOffsets: () =>
          this.admin.run(async () => {
            if (this.lifecycle.state === 'open') await this.writeCheckpoints()
          }),
      },
      {
        dedupeBufferSize: config.logCleanerDedupeBufferSize,
        loadFactor: config.logCleanerIoBufferLoadFactor,
        compactionEnabled: config.logCleanerEnable,
        // One timer for both Kafka tasks: retention checks are cheap (segment metadata only).
        intervalMs: Math.min(config.logRetentionCheckIntervalMs, config.logCleanerBackoffMs),
      },
    )
  }

  /** Opens (or creates) a data directory; see the module comment for the steps. */
  static async open(options: EngineOptions): Promise<Engine> {
    const { dir, fs, clock, config } = resolveOptions(options)
    const engine = new Engine(dir, fs, clock, config)
    try {
      await engine.load()
    } catch (e) {
      await engine.abortOpen()
      throw e
    }
    engine.lifecycle.transition('open')
    engine.checkpoints.start()
    engine.cleaner.start()
    return engine
  }

  get state(): EngineState {
    return this.lifecycle.state
  }

  /** What opening the directory found and repaired. */
  get openReport(): OpenReport {
    return this.report!
  }

  /** Throws ERR_CLOSED unless the engine is open. Every public operation starts with it. */
  ensureOpen(): void {
    this.lifecycle.ensureOpen()
  }

  // ---------------------------------------------------------------------------------------------------
  // Lookups for the layers above (producer, consumer, group, api)

  /**
   * The log of a partition. Works while open and while closing (close hooks flush into logs); throws
   * ERR_CLOSED after close and ERR_UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist.
   */
  log(topic: string, partition: number): PartitionLog {
    this.lifecycle.ensureLogsOpen()
    const live = this.topics.get(topic)
    const log = live !== undefined && Number.isInteger(partition) ? live.logs[partition] : undefined
    if (log === undefined) {
      throw unknownTopicOrPartition(
        live === undefined ? `Unknown topic ${describeValue(topic)}` : `Unknown partition ${describeValue(partition)} of topic ${topic} (it has ${live.logs.length})`,
        topic,
        partition,
      )
    }
    return log
  }

  /** The partition count of `topic`; ERR_UNKNOWN_TOPIC_OR_PARTITION if it does not exist. */
  partitionCount(topic: string): number {
    this.lifecycle.ensureLogsOpen()
    return this.requireTopic(topic).record.partitions
  }

  /** The resolved (fully defaulted, frozen) config of `topic`. */
  topicConfig(topic: string): Readonly<TopicConfig> {
    this.lifecycle.ensureLogsOpen()
    return this.requireTopic(topic).config
  }

  /** Whether `topic` exists. */
  hasTopic(topic: string): boolean {
    this.lifecycle.ensureLogsOpen()
    return typeof topic === 'string' && this.topics.get(topic) !== undefined
  }

  /**
   * Registers work to run at the start of `close()`, before the logs close (a producer flushing its
   * buffers). Hooks run in reverse order of registration; a failing hook fails `close()` but does not
   * stop the others or the close. Returns a function that unregisters the hook.
   */
  onClose(hook: CloseHook): () => void {
    this.lifecycle.ensureOpen()
    this.closeHooks.push(hook)
    return () => {
      const i = this.closeHooks.indexOf(hook)
      if (i >= 0) this.closeHooks.splice(i, 1)
    }
  }

  /** A producer id unique for the life of this data directory, with epoch 0 (see producer-ids.ts). */
  allocateProducerId(): Promise<ProducerIdAndEpoch> {
    return this.guard(() => this.producerIds!.allocate())
  }

  /**
   * Resolves once `topic` exists. A missing topic is created with `numPartitions` and the topic defaults
   * when `autoCreateTopicsEnable` is set (Kafka's auto-creation); otherwise it is
   * ERR_UNKNOWN_TOPIC_OR_PARTITION. For producers and consumers that name a topic before it exists.
   */
  ensureTopic(topic: string): Promise<void> {
    return this.guard(async () => {
      if (this.topics.get(topic) !== undefined) return
      if (!this.config.autoCreateTopicsEnable) throw unknownTopicOrPartition(`Unknown topic ${describeValue(topic)} (autoCreateTopicsEnable is false)`, topic)
      validateTopicName(topic)
      await this.admin.run(async () => {
        this.lifecycle.ensureOpen()
        if (this.topics.get(topic) === undefined) await this.topics.create(topic, randomTopicId(), this.config.numPartitions, {}, this.config.topicDefaults)
      })
    })
  }

  // ---------------------------------------------------------------------------------------------------
  // Admin

  /**
   * Creates a topic. Every argument is checked before anything is written: the name (Kafka's rules,
   * ERR_INVALID_TOPIC), the partition count (ERR_INVALID_PARTITIONS) and the config (ERR_INVALID_CONFIG).
   * ERR_TOPIC_ALREADY_EXISTS if the name is taken; ERR_INVALID_TOPIC if it collides with an existing
   * name once '.' and '_' are read alike (Kafka refuses such a create too).
   */
  createTopic(name: string, options: CreateTopicOptions = {}): Promise<void> {
    return this.guard(async () => {
      validateTopicName(name)
      if (!isPlainObject(options)) throw new InvalidArgumentError(`createTopic options must be a plain object, got ${describeValue(options)}`, { topic: name })
      const { partitions = this.config.numPartitions, ...configInput } = options
      checkPartitionCount(partitions, name)
      const { overrides, config } = this.resolveOverrides(configInput)
      await this.admin.run(async () => {
        this.lifecycle.ensureOpen()
        if (this.topics.get(name) !== undefined) throw new KafkaliteError('ERR_TOPIC_ALREADY_EXISTS', `Topic ${name} already exists`, { topic: name })
        const collision = this.topics.names().find((existing) => topicNamesCollide(existing, name))
        if (collision !== undefined) {
          throw new KafkaliteError('ERR_INVALID_TOPIC', `Topic ${name} collides with existing topic ${collision} ('.' and '_' are interchangeable in Kafka's metric names)`, {
            topic: name,
            collidesWith: collision,
          })
        }
        await this.topics.create(name, randomTopicId(), partitions, overrides, config)
      })
    })
  }

  /** Deletes a topic and its data (Kafka's scheme: registry first, then `-delete` directories, removed). */
  deleteTopic(name: string): Promise<void> {
    return this.guard(async () => {
      checkTopicArgument(name)
      await this.admin.run(async () => {
        this.lifecycle.ensureOpen()
        const live = this.requireTopic(name)
        // No cleaner work may run on a partition while its directory goes away.
        for (const log of live.logs) await this.cleaner.abortAndPause(log)
        try {
          await this.topics.remove(name)
        } catch (e) {
          for (const log of live.logs) this.cleaner.resume(log)
          throw e
        }
        for (const log of live.logs) this.cleaner.forgetPartition(name, log.partition)
      })
    })
  }

  /**
   * Raises a topic's partition count. Only increases are possible: keyed records are placed by
   * hash(key) % partitions, so fewer partitions would move keys, break per-key ordering, and strand the
   * records of the removed partitions.
   */
  createPartitions(name: string, newCount: number): Promise<void> {
    return this.guard(async () => {
      checkTopicArgument(name)
      checkPartitionCount(newCount, name)
      await this.admin.run(async () => {
        this.lifecycle.ensureOpen()
        const current = this.requireTopic(name).record.partitions
        if (newCount <= current) {
          throw new KafkaliteError(
            'ERR_INVALID_PARTITIONS',
            `Topic ${name} has ${current} partition${current === 1 ? '' : 's'}; createPartitions can only increase the count (asked for ${newCount}). ` +
              'Keyed records are placed by hash(key) % partitions, so removing partitions would move keys to other ' +
              'partitions, break per-key ordering, and lose the records stored in the removed partitions.',
            { topic: name, current, requested: newCount },
          )
        }
        await this.topics.addPartitions(name, newCount)
      })
    })
  }

  /**
   * Changes a topic's config at run time: each key in `changes` sets an override, `null` removes one.
   * The result is validated as a whole (ERR_INVALID_CONFIG naming the key), persisted, then applied to
   * the running logs.
   */
  alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<void> {
    return this.guard(async () => {
      checkTopicArgument(name)
      if (!isPlainObject(changes)) throw new InvalidArgumentError(`alterTopicConfig changes must be a plain object, got ${describeValue(changes)}`, { topic: name })
      await this.admin.run(async () => {
        this.lifecycle.ensureOpen()
        const live = this.requireTopic(name)
        // Unknown keys are refused (with a suggestion) even when they only remove an override.
        resolveTopicConfig(Object.fromEntries(Object.keys(changes).map((k) => [k, undefined])) as TopicConfigInput)
        const merged: Record<string, unknown> = { ...live.record.config }
        for (const [key, value] of Object.entries(changes)) {
          if (value === null) delete merged[key]
          else if (value !== undefined) merged[key] = value
        }
        const { overrides, config } = this.resolveOverrides(merged)
        await this.topics.alterConfig(name, overrides, config)
      })
    })
  }

  /** Topic names, sorted. Kafka's internal topics only with `listInternal`. */
  listTopics(options: { listInternal?: boolean } = {}): string[] {
    this.lifecycle.ensureOpen()
    const names = this.topics.names()
    return options?.listInternal === true ? names : names.filter((n) => !INTERNAL_TOPICS.has(n))
  }

  describeTopic(name: string): TopicDescription {
    this.lifecycle.ensureOpen()
    checkTopicArgument(name)
    const live = this.requireTopic(name)
    return {
      name,
      topicId: live.record.topicId,
      partitions: live.logs.map((log) => {
        const cleaner = this.cleaner.describe(log, live.config)
        return {
          partition: log.partition,
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          highWatermark: log.highWatermark,
          size: log.size,
          segmentCount: log.segmentCount,
          cleanerState: cleaner.cleanerState,
          dirtyRatio: cleaner.dirtyRatio,
          lastCleanTimeMs: cleaner.lastCleanTimeMs,
          bytesReclaimed: cleaner.bytesReclaimed,
        }
      }),
      config: live.config,
    }
  }

  /**
   * Runs one cleaner pass now over every partition: idle segment rolls (segmentMs), retention, and one
   * compaction round per partition that needs one. Deterministic with a manual clock; the background
   * pass runs every min(logRetentionCheckIntervalMs, logCleanerBackoffMs) anyway.
   */
  runCleaners(): Promise<CleanerRunReport> {
    return this.guard(() => this.cleaner.runOnce())
  }

  /**
   * Kafka's DeleteRecords: records of the partition below `beforeOffset` (-1: the high watermark)
   * become unreadable at once and their whole segments are deleted; ERR_OFFSET_OUT_OF_RANGE past the
   * high watermark. Resolves with the new log start offset (Kafka's low watermark) once it is
   * checkpointed.
   */
  deleteRecords(topic: string, partition: number, beforeOffset: Offset): Promise<{ lowWatermark: Offset }> {
    return this.guard(() => this.cleaner.deleteRecords(this.log(topic, partition), beforeOffset))
  }

  // ---------------------------------------------------------------------------------------------------
  // Close

  /** Closes the directory (see the module comment). Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  /** Resolves when the background work started so far (a periodic checkpoint or cleaner pass) has finished. For tests. */
  async idle(): Promise<void> {
    await Promise.all([this.checkpoints.idle(), this.cleaner.idle()])
  }

  private async shutdown(): Promise<void> {
    this.lifecycle.transition('closing')
    this.checkpoints.stop()
    // Before the logs close: a running round stops at its next slice (a committed swap is finished).
    await this.cleaner.stop()
    let failure: unknown
    for (const hook of [...this.closeHooks].reverse()) {
      try {
        await hook()
      } catch (e) {
        failure ??= e
      }
    }
    this.closeHooks.length = 0
    await this.admin.run(async () => {
      const logFailure = await this.topics.closeAll()
      if (logFailure !== undefined) {
        // A log that did not flush and close may hold data past its recovery point: no marker, so the
        // next open recovers it.
        failure ??= logFailure
        return
      }
      try {
        await this.writeCheckpoints()
        const states = new Map<string, CleanShutdownState>()
        for (const log of this.topics.logs()) {
          const state = log.cleanShutdownState
          if (state !== undefined) states.set(partitionKey(log.topic, log.partition), state)
        }
        await this.logDirState.markCleanShutdown(states)
      } catch (e) {
        failure ??= e
      }
    })
    this.releaseLock()
    this.lifecycle.transition('closed')
    if (failure !== undefined) throw failure
  }

  // ---------------------------------------------------------------------------------------------------
  // Internals

  private async load(): Promise<void> {
    // Compiling zstd's WebAssembly takes several milliseconds of a clean open; it needs nothing from the
    // disk, so it runs while the directory is created, locked and read, and is awaited before the first
    // log is opened. (Caught here so that a failure before that await is not an unhandled rejection.)
    const codecs = loadCodecs()
    codecs.catch(() => undefined)
    await createDirDurably(this.fs, this.dir)
    this.lock = acquireDirectoryLock(this.fs, this.dir, { pid: process.pid, hostname: hostname() })
    const registry = readTopicRegistry(this.fs, this.dir)
    const configs = new Map(registry.map((record) => [record.name, this.storedConfig(record)]))
    this.producerIds = ProducerIdAllocator.load(this.fs, this.dir)
    const cleanShutdown = this.logDirState.hadCleanShutdown()
    const recoveryPoints = this.logDirState.readRecoveryPoints()
    const logStartOffsets = this.logDirState.readLogStartOffsets()
    const endStates = this.logDirState.readCleanShutdownStates()

    const problems = await this.removeDebris(registry)
    await codecs
    for (const record of registry) {
      problems.push(
        ...(await this.topics.load(record, configs.get(record.name)!, (partition) => {
          const key = partitionKey(record.name, partition)
          return {
            recoveryPoint: recoveryPoints.get(key),
            logStartOffset: logStartOffsets.get(key),
            hadCleanShutdown: cleanShutdown,
            cleanShutdownState: endStates.get(key),
          }
        })),
      )
    }
    await this.logDirState.markOpen()
    problems.unshift(...this.logDirState.problems)
    this.report = buildOpenReport(cleanShutdown, problems, this.topics.logs())
  }

  /** After a failed open: close what was opened, release the lock, never write the clean-shutdown marker. */
  private async abortOpen(): Promise<void> {
    await this.topics.closeAll()
    this.releaseLock()
    this.lifecycle.transition('closed')
  }

  /**
   * A registered topic's config: its stored overrides resolved against today's defaults. A registry
   * entry with an invalid name is corruption (a name like `../x` would reach outside the directory).
   */
  private storedConfig(record: TopicRecord): Readonly<TopicConfig> {
    const path = joinPath(this.dir, TOPIC_REGISTRY_FILE)
    const problem = topicNameProblem(record.name)
    if (problem !== null) throw new CorruptRecordError(`Topic registry ${path} lists an invalid topic name: ${problem}`, { path })
    try {
      return resolveTopicConfig(record.config as TopicConfigInput, this.config.topicDefaults)
    } catch (e) {
      if (!isKafkaliteError(e, 'ERR_INVALID_CONFIG')) throw e
      throw new KafkaliteError('ERR_INVALID_CONFIG', `Stored config of topic ${record.name} is no longer valid: ${e.message}`, { ...e.context, topic: record.name }, e)
    }
  }

  /** Removes `-delete` directories and unregistered partition directories that kafkalite made (data-dir.ts). */
  private async removeDebris(registry: readonly TopicRecord[]): Promise<string[]> {
    const counts = new Map(registry.map((r) => [r.name, r.partitions]))
    const scan = scanRoot(this.fs, this.dir, (topic, partition) => partition < (counts.get(topic) ?? 0))
    const problems: string[] = []
    for (const name of scan.deleteDirs) {
      this.fs.rmrf(joinPath(this.dir, name))
      problems.push(`removed ${name}, left by an interrupted topic deletion`)
    }
    for (const stray of scan.strayPartitionDirs) {
      await deletePartitionDir(this.fs, this.dir, stray.topic, stray.partition)
      problems.push(`removed ${stray.name}, a partition directory the topic registry does not list (an interrupted create or delete)`)
    }
    for (const name of scan.foreignDirs) problems.push(`left ${name} alone: it looks like a partition directory but kafkalite did not create it`)
    return problems
  }

  /**
   * Validates config input for a topic and splits it into what is stored (the keys the user set, as
   * the validators normalised them) and what runs (resolved against the engine's topic defaults).
   */
  private resolveOverrides(input: Record<string, unknown>): { overrides: TopicConfigOverrides; config: Readonly<TopicConfig> } {
    const config = resolveTopicConfig(input as TopicConfigInput, this.config.topicDefaults)
    const keys = Object.keys(input).filter((k) => input[k] !== undefined) as (keyof TopicConfig)[]
    return { overrides: Object.freeze(Object.fromEntries(keys.map((k) => [k, config[k]]))), config }
  }

  private requireTopic(name: string): LiveTopic {
    const live = typeof name === 'string' ? this.topics.get(name) : undefined
    if (live === undefined) throw unknownTopicOrPartition(`Unknown topic ${describeValue(name)}`, name)
    return live
  }

  /** Runs an async public operation so that ERR_CLOSED and argument errors reject rather than throw. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    this.lifecycle.ensureOpen()
    return fn()
  }

  /** Every open partition with its topic's current config, for the cleaner. */
  private cleanableLogs(): CleanableLog[] {
    return this.topics.names().flatMap((name) => {
      const live = this.topics.get(name)!
      return live.logs.map((log) => ({ log, config: live.config }))
    })
  }

  /** Assumes: under `admin`, so no log is being added or removed while the offsets are collected. */
  private writeCheckpoints(): Promise<void> {
    return this.logDirState.writeCheckpoints(
      [...this.topics.logs()].map((log) => ({
        topic: log.topic,
        partition: log.partition,
        recoveryPoint: log.recoveryPoint,
        logStartOffset: log.logStartOffset,
        firstSegmentBaseOffset: log.segmentList[0]!.baseOffset,
      })),
    )
  }

  private releaseLock(): void {
    try {
      this.lock?.release()
    } catch {
      // A lock file we cannot remove is taken over by the next opener (its pid is dead or ours).
    }
    this.lock = undefined
  }
}

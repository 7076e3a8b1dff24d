/**
 * The cleaner: retention and compaction for every partition of a data directory, run in the
 * background on the injected clock or on demand (Kafka's LogCleaner + LogCleanerManager, plus the
 * retention half of LogManager).
 *
 * A pass (`runOnce`) does, per partition: roll an idle active segment (`segmentMs`), apply retention
 * (retention.ts), then, for partitions whose policy includes "compact" and that are worth cleaning
 * (cleanable.ts), one compaction round each, filthiest first (compactor.ts). The engine hands its logs
 * in through `CleanerHost`; the cleaner never opens or closes a log.
 *
 * Invariants:
 * - Per partition, at most one of {retention, a compaction round, deleteRecords' segment deletion}
 *   runs at a time: each holds the partition's lock, so no two of them ever act on the same segments.
 *   Appends and reads never take it (they touch only the active segment, resp. read synchronously).
 * - Per partition, the lifecycle follows cleaner-state.ts.
 * - Passes run one at a time (`runOnce` calls queue), so one offset map serves every round; it is
 *   allocated at the first round, at exactly `dedupeBufferSize` bytes, and never grows.
 * - A round never holds the event loop for long: it awaits `yieldSlice` (setImmediate by default)
 *   whenever a slice of synchronous work has run for `sliceBudgetMs` (slice-budget.ts).
 *
 * Errors: a typed (KafkaliteError) failure of one partition is recorded in the report and in its
 * description, and does not stop the pass; anything else (a bug, or a test's simulated crash) propagates
 * from `runOnce`. The background timer (scheduler.ts) never lets an error escape.
 */
import { InvalidArgumentError, OffsetOutOfRangeError, isKafkaliteError } from '../errors/index'
import type { PartitionLog } from '../storage/partition-log'
import { Mutex } from '../util/mutex'
import type { Offset } from '../util/types'
import { cleanableRange, shouldClean, type CleanableRange } from './cleanable'
import { CleanerCheckpoint } from './cleaner-checkpoint'
import { CleanerStateMachine, CleaningAborted } from './cleaner-state'
import { compactOnce, DEFAULT_CHUNK_BYTES, type CompactionResult } from './compactor'
import { FileDeleter } from './file-deleter'
import { OffsetMap } from './offset-map'
import { applyRetention, deleteOldSegments, logStartOffsetPredicate, type DeletionEffects, type RetentionConfig, type SegmentDeletedEvent } from './retention'
import { CleanerScheduler } from './scheduler'
import { DEFAULT_SLICE_BUDGET_MS, SliceBudget } from './slice-budget'
import type {
  CleanableLog,
  CleanerHost,
  CleanerOptions,
  CleanerRunReport,
  CleanerTopicConfig,
  CompactionSummary,
  PartitionCleanerDescription,
} from './types'

export type {
  CleanableLog,
  CleanerError,
  CleanerHost,
  CleanerOptions,
  CleanerRunReport,
  CleanerTopicConfig,
  CompactionSummary,
  PartitionCleanerDescription,
} from './types'

interface PartitionEntry {
  readonly log: PartitionLog
  readonly machine: CleanerStateMachine
  /** Held by retention, a compaction round and deleteRecords' deletion (see the module comment). */
  readonly lock: Mutex
  lastCleanTimeMs: number | null
  bytesReclaimed: number
  bytesDeleted: number
  rounds: number
  nextDeleteHorizonMs: number | undefined
  lastError: Error | undefined
}

const MiB = 1024 * 1024
const setImmediateYield = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class CleanerManager {
  private readonly host: CleanerHost
  private readonly dedupeBufferSize: number
  private readonly loadFactor: number
  private readonly compactionEnabled: boolean
  private readonly chunkBytes: number
  private readonly sliceBudgetMs: number
  private readonly yieldSlice: () => Promise<void>
  private readonly checkpoint: CleanerCheckpoint
  private readonly deleter: FileDeleter
  private readonly partitions = new Map<PartitionLog, PartitionEntry>()
  private readonly deletedListeners = new Set<(event: SegmentDeletedEvent) => void>()
  private readonly compactedListeners = new Set<(summary: CompactionSummary) => void>()
  private map: OffsetMap | undefined
  private passes: Promise<unknown> = Promise.resolve()
  private readonly scheduler: CleanerScheduler
  private stopping = false
  /** Failures of background work (timers), kept for describe and tests. */
  readonly backgroundErrors: unknown[] = []

  /** Checks the options (ERR_INVALID_CONFIG for a map budget that cannot hold a key); allocates nothing. */
  constructor(host: CleanerHost, options: CleanerOptions = {}) {
    this.host = host
    this.dedupeBufferSize = options.dedupeBufferSize ?? 128 * MiB
    this.loadFactor = options.loadFactor ?? 0.9
    OffsetMap.capacity(this.dedupeBufferSize, this.loadFactor)
    this.compactionEnabled = options.compactionEnabled ?? true
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
    this.sliceBudgetMs = options.sliceBudgetMs ?? DEFAULT_SLICE_BUDGET_MS
    this.yieldSlice = options.yieldSlice ?? setImmediateYield
    this.checkpoint = new CleanerCheckpoint(host.fs, host.dataDir)
    this.deleter = new FileDeleter(host.fs, host.clock, (e) => this.backgroundErrors.push(e))
    this.scheduler = new CleanerScheduler(host.clock, options.intervalMs ?? 15000, async () => {
      const report = await this.runOnce()
      for (const e of report.errors) this.backgroundErrors.push(e.error)
    }, (e) => this.backgroundErrors.push(e))
  }

  /** Bytes held by the offset map: 0 before the first round, then exactly `dedupeBufferSize`. */
  get offsetMapMemoryBytes(): number {
    return this.map?.memoryBytes ?? 0
  }

  /** Why the cleaner checkpoint on disk was ignored at start, if it was. */
  get checkpointProblem(): string | undefined {
    return this.checkpoint.problem
  }

  /** Calls `listener` for every segment retention deletes. Returns an unsubscribe function. */
  onSegmentDeleted(listener: (event: SegmentDeletedEvent) => void): () => void {
    this.deletedListeners.add(listener)
    return () => this.deletedListeners.delete(listener)
  }

  /** Calls `listener` after every compaction round. Returns an unsubscribe function. */
  onCompacted(listener: (summary: CompactionSummary) => void): () => void {
    this.compactedListeners.add(listener)
    return () => this.compactedListeners.delete(listener)
  }

  // ---------------------------------------------------------------------------------------------------
  // Running

  /**
   * One pass over every partition (see the module comment). Deterministic for tests: with a manual
   * clock and the default slice yield, it completes without any timer firing. Concurrent calls queue.
   */
  runOnce(): Promise<CleanerRunReport> {
    const pass = this.passes.then(() => this.pass())
    this.passes = pass.catch(() => undefined)
    return pass
  }

  /** Passes until one finds nothing more to do (a map-limited partition needs several). */
  async runUntilIdle(maxPasses = 1000): Promise<CleanerRunReport[]> {
    const reports: CleanerRunReport[] = []
    for (let i = 0; i < maxPasses; i++) {
      const report = await this.runOnce()
      reports.push(report)
      if (!report.moreWork) break
    }
    return reports
  }

  /** Resolves when the background pass started by the timer so far has finished (for tests). */
  idle(): Promise<void> {
    return this.scheduler.idle()
  }

  /** Runs a pass every `intervalMs` on the host's clock (whose timers never keep the process alive). Idempotent. */
  start(): void {
    if (!this.stopping) this.scheduler.start()
  }

  /**
   * Stops the timer, makes a running round stop at its next slice (a committed swap is finished
   * first), waits for the pass, and unlinks pending `.deleted` files. Idempotent. Call it before the
   * logs close.
   */
  async stop(): Promise<void> {
    this.stopping = true
    await this.scheduler.stop()
    await this.passes
    try {
      this.deleter.flushNow()
    } catch (e) {
      this.backgroundErrors.push(e)
    }
  }

  private async pass(): Promise<CleanerRunReport> {
    const report: CleanerRunReport = { rolled: 0, deleted: [], compactions: [], errors: [], moreWork: false }
    // A pass queued behind `stop()` does nothing: the logs are about to close.
    if (this.stopping) return report
    const logs = this.liveLogs()
    const now = this.host.clock.now()
    let startOffsetsMoved = false
    for (const { log, config } of logs) {
      const entry = this.entryFor(log)
      if (log.maybeRollIdle(now)) report.rolled++
      const before = log.logStartOffset
      await this.retention(entry, config, now, report)
      if (log.logStartOffset !== before) startOffsetsMoved = true
    }
    if (startOffsetsMoved) await this.checkpointStartOffsets(report)
    if (this.compactionEnabled) await this.compactAll(logs, report)
    return report
  }

  private liveLogs(): CleanableLog[] {
    const logs = [...this.host.logs()].filter((l) => !l.log.isClosed)
    const live = new Set(logs.map((l) => l.log))
    for (const log of this.partitions.keys()) if (!live.has(log)) this.partitions.delete(log)
    return logs
  }

  private entryFor(log: PartitionLog): PartitionEntry {
    let entry = this.partitions.get(log)
    if (entry === undefined) {
      entry = {
        log,
        machine: new CleanerStateMachine(),
        lock: new Mutex(),
        lastCleanTimeMs: null,
        bytesReclaimed: 0,
        bytesDeleted: 0,
        rounds: 0,
        nextDeleteHorizonMs: undefined,
        lastError: undefined,
      }
      this.partitions.set(log, entry)
    }
    return entry
  }

  // ---------------------------------------------------------------------------------------------------
  // Retention

  private async retention(entry: PartitionEntry, config: Readonly<RetentionConfig>, now: number, report: CleanerRunReport): Promise<void> {
    const { log } = entry
    await entry.lock.run(() => {
      const state = entry.machine.state
      if (state === 'paused' || state === 'aborted' || log.isClosed) return
      try {
        applyRetention(log, config, now, this.host.fs, this.deletionEffects(entry, config.fileDeleteDelayMs, report.deleted))
      } catch (e) {
        if (!isKafkaliteError(e)) throw e
        entry.lastError = e
        report.errors.push({ topic: log.topic, partition: log.partition, error: e })
      }
    })
  }

  private deletionEffects(entry: PartitionEntry, fileDeleteDelayMs: number, into: SegmentDeletedEvent[]): DeletionEffects {
    return {
      retire: (segment) => this.deleter.retire(segment, fileDeleteDelayMs),
      onDeleted: (event) => {
        entry.bytesDeleted += event.bytes
        into.push(event)
        for (const listener of this.deletedListeners) callQuietly(() => listener(event))
      },
    }
  }

  private async checkpointStartOffsets(report: CleanerRunReport): Promise<void> {
    try {
      await this.host.checkpointLogStartOffsets?.()
    } catch (e) {
      if (!isKafkaliteError(e)) throw e
      report.errors.push({ topic: '', partition: -1, error: e })
    }
  }

  /**
   * Kafka's DeleteRecords: moves the log start offset to `beforeOffset` (-1 means the high watermark),
   * which must not pass the high watermark (ERR_OFFSET_OUT_OF_RANGE). Records below it are unreadable
   * at once; the new start offset is checkpointed before this resolves; then the segments wholly below
   * it are deleted (after a compaction round of the partition that is running, if one is). Returns the
   * new log start offset (Kafka's low watermark).
   */
  async deleteRecords(log: PartitionLog, beforeOffset: Offset): Promise<{ lowWatermark: Offset }> {
    const context = { topic: log.topic, partition: log.partition, offset: beforeOffset }
    if (typeof beforeOffset !== 'number' || !Number.isSafeInteger(beforeOffset)) {
      throw new InvalidArgumentError(`deleteRecords needs an integer offset, got ${String(beforeOffset)}`, context)
    }
    const target = beforeOffset === -1 ? log.highWatermark : beforeOffset
    if (target < 0 || target > log.highWatermark) {
      throw new OffsetOutOfRangeError(
        `Cannot delete records of ${log.topic}-${log.partition} before ${beforeOffset}: it must lie in [0, ${log.highWatermark}] (the high watermark), or be -1`,
        { ...context, highWatermark: log.highWatermark },
      )
    }
    if (target > log.logStartOffset) {
      log.advanceLogStartOffset(target)
      await this.host.checkpointLogStartOffsets?.()
    }
    const entry = this.entryFor(log)
    await entry.lock.run(() => {
      const state = entry.machine.state
      if (state === 'paused' || state === 'aborted' || log.isClosed) return
      deleteOldSegments(log, logStartOffsetPredicate(log), 'log-start-offset', this.deletionEffects(entry, this.delayFor(log), []))
    })
    return { lowWatermark: log.logStartOffset }
  }

  /** The partition's fileDeleteDelayMs (Kafka's default if the host no longer lists it). */
  private delayFor(log: PartitionLog): number {
    for (const l of this.host.logs()) if (l.log === log) return l.config.fileDeleteDelayMs
    return 60000
  }

  // ---------------------------------------------------------------------------------------------------
  // Compaction

  private async compactAll(logs: readonly CleanableLog[], report: CleanerRunReport): Promise<void> {
    const now = this.host.clock.now()
    const candidates: { item: CleanableLog; entry: PartitionEntry; range: CleanableRange }[] = []
    for (const item of logs) {
      if (!item.config.cleanupPolicy.includes('compact') || item.log.isClosed) continue
      const entry = this.entryFor(item.log)
      if (entry.machine.state !== 'idle') continue
      const range = cleanableRange(item.log, item.config, this.checkpoint.get(item.log.topic, item.log.partition), now)
      if (shouldClean(range, item.config, entry.nextDeleteHorizonMs, now)) candidates.push({ item, entry, range })
    }
    candidates.sort((a, b) => b.range.dirtyRatio - a.range.dirtyRatio)
    for (const c of candidates) {
      if (this.stopping) return
      await this.round(c.item, c.entry, report)
    }
  }

  /** One compaction round of one partition, under its lock, with the state machine around it. */
  private async round(item: CleanableLog, entry: PartitionEntry, report: CleanerRunReport): Promise<void> {
    const { log, config } = item
    if (entry.machine.state !== 'idle') return
    entry.machine.startRound()
    let failed = false
    try {
      await entry.lock.run(async () => {
        const now = this.host.clock.now()
        // Recomputed under the lock: retention or deleteRecords may have moved the log start.
        const range = cleanableRange(log, config, this.checkpoint.get(log.topic, log.partition), now)
        const started = performance.now()
        this.map ??= new OffsetMap(this.dedupeBufferSize, this.loadFactor)
        const result = await compactOnce({
          log,
          config,
          range,
          map: this.map,
          fs: this.host.fs,
          deleter: this.deleter,
          now,
          chunkBytes: this.chunkBytes,
          budget: new SliceBudget(this.sliceBudgetMs, () => this.slice(entry)),
        })
        await this.afterRound(entry, range, result, now, performance.now() - started, report)
      })
    } catch (e) {
      if (!(e instanceof CleaningAborted)) {
        failed = true
        entry.lastError = e as Error
        if (!isKafkaliteError(e)) throw e
        report.errors.push({ topic: log.topic, partition: log.partition, error: e })
      }
    } finally {
      entry.machine.endRound(failed)
    }
  }

  private async slice(entry: PartitionEntry): Promise<void> {
    await this.yieldSlice()
    if (entry.machine.isAborted) throw new CleaningAborted('paused')
    if (this.stopping) throw new CleaningAborted('the cleaner is stopping')
    if (entry.log.isClosed) throw new CleaningAborted('the log was closed')
  }

  private async afterRound(entry: PartitionEntry, range: CleanableRange, result: CompactionResult, now: number, durationMs: number, report: CleanerRunReport): Promise<void> {
    const { log } = entry
    entry.rounds++
    entry.lastCleanTimeMs = now
    entry.lastError = undefined
    entry.bytesReclaimed += Math.max(0, result.bytesBefore - result.bytesAfter)
    entry.nextDeleteHorizonMs = result.earliestDeleteHorizonMs
    this.checkpoint.set(log.topic, log.partition, result.endOffset)
    const live = new Set([...this.host.logs()].map((l) => `${l.log.topic}-${l.log.partition}`))
    this.checkpoint.retain((topic, partition) => live.has(`${topic}-${partition}`))
    await this.checkpoint.write()
    const summary: CompactionSummary = {
      topic: log.topic,
      partition: log.partition,
      firstDirtyOffset: range.firstDirtyOffset,
      endOffset: result.endOffset,
      mapFull: result.mapFull,
      keysMapped: result.keysMapped,
      segmentsBefore: result.segmentsBefore,
      segmentsAfter: result.segmentsAfter,
      bytesBefore: result.bytesBefore,
      bytesAfter: result.bytesAfter,
      recordsRead: result.recordsRead,
      recordsKept: result.recordsKept,
      durationMs,
    }
    report.compactions.push(summary)
    if (result.mapFull) report.moreWork = true
    for (const listener of this.compactedListeners) callQuietly(() => listener(summary))
  }

  // ---------------------------------------------------------------------------------------------------
  // Control and description

  /**
   * Kafka's `abortAndPauseCleaning`: stops a running round at its next slice and keeps the partition
   * from being cleaned (and from retention) until `resume`. Resolves once no cleaner work is running
   * on the partition. Nested calls need as many resumes.
   */
  async abortAndPause(log: PartitionLog): Promise<void> {
    const entry = this.entryFor(log)
    entry.machine.pause()
    await entry.lock.run(() => undefined)
  }

  resume(log: PartitionLog): void {
    this.partitions.get(log)?.machine.resume()
  }

  /** Forgets a partition's checkpointed first dirty offset (its topic was deleted). */
  forgetPartition(topic: string, partition: number): void {
    this.checkpoint.delete(topic, partition)
  }

  describe(log: PartitionLog, config: Readonly<CleanerTopicConfig>): PartitionCleanerDescription {
    const entry = this.partitions.get(log)
    const checkpointed = this.checkpoint.get(log.topic, log.partition)
    const compacted = config.cleanupPolicy.includes('compact') && !log.isClosed
    const range = compacted ? cleanableRange(log, config, checkpointed, this.host.clock.now()) : undefined
    return {
      cleanerState: entry?.machine.state ?? 'idle',
      dirtyRatio: range?.dirtyRatio ?? 0,
      firstDirtyOffset: range?.firstDirtyOffset ?? log.logStartOffset,
      lastCleanTimeMs: entry?.lastCleanTimeMs ?? null,
      bytesReclaimed: entry?.bytesReclaimed ?? 0,
      bytesDeleted: entry?.bytesDeleted ?? 0,
      compactionRounds: entry?.rounds ?? 0,
      lastError: entry?.lastError?.message ?? null,
    }
  }
}

function callQuietly(fn: () => void): void {
  try {
    fn()
  } catch {
    // A listener's failure is its own; the cleaner's work is done either way.
  }
}

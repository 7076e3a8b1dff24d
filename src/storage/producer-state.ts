/**
 * The producer state of one partition (Kafka's ProducerStateManager, reduced to what one process
 * needs: idempotence, no transactions). For each producer id seen in the log it keeps the epoch and the
 * metadata of its last few batches, which is what lets a partition drop a retried batch instead of
 * writing it twice, and refuse one that would leave a gap or comes from a fenced (older) epoch.
 *
 * Invariants:
 * - The state describes exactly the batches in [0, logEndOffset) of the log it belongs to (those still
 *   present: retention and truncation forget producers, as in Kafka). `PartitionLog` keeps this true: it
 *   calls `checkAppend` before a write, `onBatchAppended` after it, and `truncateAndReload` after a
 *   truncation.
 * - Per producer at most BATCHES_TO_RETAIN batches are kept, oldest first, all of the current epoch
 *   (a new epoch starts with none).
 * - A snapshot `<offset>.snapshot` holds the state as of `offset` (exclusive), in Kafka's format
 *   (codec/producer-snapshot.ts). It keeps only the *last* batch of each producer, as Kafka's does, so a
 *   state loaded from a snapshot can recognise a retry of that batch but not of older ones.
 *
 * Loading (at open, and after a truncation): snapshots past the log end are deleted (they describe
 * data that is gone); the latest readable snapshot at or below the log end is loaded (unreadable ones
 * are deleted and the next older one tried), and the batches after it are replayed from the log, headers
 * only. With no snapshot the whole log is replayed from its first segment (kafka-format.md pitfall 6:
 * skipping the rebuild after a clean shutdown, as Kafka does, would forget every producer). After a
 * clean close the snapshot sits at the log end, so loading reads no `.log` data.
 *
 * Snapshot files are written in place, without fsync at roll (Kafka also writes them in place): a torn
 * or missing snapshot fails its CRC or is absent after a crash, and the state is rebuilt from an older
 * one or from the log. Only the snapshot at close is fsynced, so that a clean restart stays cheap.
 *
 * Concurrency: owned by the partition's single writer. Every method is synchronous except
 * `takeSnapshotDurably`, which the log calls from `close()` once no append can run.
 */
import { decodeProducerSnapshot, encodeProducerSnapshot, type ProducerSnapshotEntry } from '../codec/producer-snapshot'
import { readBatchHeader, type BatchHeader } from '../codec/record-batch'
import { InvalidArgumentError, isKafkaliteError, KafkaliteError, type ErrorContext } from '../errors'
import type { FileSystem } from '../io/file-system'
import type { Offset, TimestampMs } from '../util/types'
import { scanBatches } from './batch-scanner'
import { offsetFromFileName, segmentFileName, segmentPath, SNAPSHOT_SUFFIX } from './file-names'
import type { LogSegment } from './segment'

/** Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`: how many recent batches per producer can be recognised as retries. */
export const BATCHES_TO_RETAIN = 5
/** Snapshots kept on disk; older ones are deleted when a new one is written. */
export const SNAPSHOTS_TO_KEEP = 2

const NO_EPOCH = -1
const NO_SEQUENCE = -1
const INT32_MAX = 0x7fffffff
const SNAPSHOT_NAME = /^\d{20}\.snapshot$/

/** One appended batch of a producer (Kafka's BatchMetadata). */
export interface BatchMetadata {
  readonly firstSeq: number
  readonly lastSeq: number
  readonly firstOffset: Offset
  readonly lastOffset: Offset
  readonly maxTimestamp: TimestampMs
}

export interface ProducerEntry {
  readonly producerId: number
  producerEpoch: number
  /** The last batches of the current epoch, oldest first; at most BATCHES_TO_RETAIN. */
  batches: BatchMetadata[]
}

/** The header fields producer state looks at (a `BatchHeader` has them all). */
export type ProducerBatchHeader = Pick<BatchHeader, 'producerId' | 'producerEpoch' | 'baseSequence' | 'lastSequence' | 'isControl'>

/** What the state is rebuilt from: the log's segments and offsets at the time of the call. */
export interface ProducerStateSource {
  segments: readonly LogSegment[]
  logEndOffset: Offset
}

export interface LoadReport {
  /** The snapshot the state was loaded from, if any. */
  snapshotOffset: Offset | undefined
  /** Batches read from the log after it. */
  batchesReplayed: number
  /** Unreadable or stale snapshots that were deleted, one line each. */
  problems: string[]
}

export class ProducerStateManager {
  private entries = new Map<number, ProducerEntry>()
  /** Offsets of the snapshot files in the directory, ascending. */
  private snapshots: Offset[] = []
  /** Set when a reload failed: the state must be rebuilt before it is used again. */
  private stale = false

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly context: ErrorContext,
    private readonly source: () => ProducerStateSource,
  ) {}

  /** The entry of `producerId`, or undefined if the partition has not seen it. */
  entry(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.entries.get(producerId)
  }

  get producerCount(): number {
    return this.entries.size
  }

  /** Offsets of the snapshot files on disk, ascending. */
  get snapshotOffsets(): readonly Offset[] {
    return this.snapshots
  }

  // -------------------------------------------------------------------------------------------------
  // Validation and update on append

  /**
   * Checks the producer batches of one append, in order, as Kafka's `analyzeAndValidateProducerState`
   * does (later batches of the same producer see the earlier ones). Returns the metadata of the original
   * batch when the append is a retry of a batch already in the log (the caller writes nothing), or
   * undefined when the append may go ahead. Throws:
   * - ERR_INVALID_PRODUCER_EPOCH for an epoch older than the producer's current one (a fenced producer);
   * - ERR_OUT_OF_ORDER_SEQUENCE for a sequence that does not follow the producer's last one (a gap), or a
   *   new epoch that does not start at sequence 0;
   * - ERR_INVALID_ARGUMENT for a duplicate inside a multi-batch append (a retry must be appended as it was
   *   first sent, one batch per append, which is what Kafka's produce protocol since v3 carries), and for a
   *   batch that has a producer id but no sequence.
   * Changes nothing.
   */
  checkAppend(headers: readonly ProducerBatchHeader[]): BatchMetadata | undefined {
    this.ensureLoaded()
    const pending = new Map<number, { epoch: number; lastSeq: number }>()
    for (const h of headers) {
      if (h.producerId < 0) continue
      if (h.baseSequence === NO_SEQUENCE) {
        throw new InvalidArgumentError(`Batch of producer ${h.producerId} has no base sequence; idempotent batches carry one`, {
          ...this.context,
          producerId: h.producerId,
        })
      }
      const current = this.entries.get(h.producerId)
      const staged = pending.get(h.producerId)
      if (staged === undefined && current !== undefined) {
        const duplicate = findDuplicate(current, h)
        if (duplicate !== undefined) {
          if (headers.length === 1) return duplicate
          throw new InvalidArgumentError(
            `Batch of producer ${h.producerId} with sequences ${h.baseSequence}..${h.lastSequence} is already in the log; ` +
              'a retried batch must be appended alone, as it was first appended',
            { ...this.context, producerId: h.producerId },
          )
        }
      }
      const epoch = staged?.epoch ?? current?.producerEpoch ?? NO_EPOCH
      const lastSeq = staged?.lastSeq ?? lastSequenceOf(current)
      this.checkEpochAndSequence(h, epoch, lastSeq)
      pending.set(h.producerId, { epoch: h.producerEpoch, lastSeq: h.lastSequence })
    }
    return undefined
  }

  /** Kafka's `checkProducerEpoch` and `checkSequence` for a client append. */
  private checkEpochAndSequence(h: ProducerBatchHeader, epoch: number, lastSeq: number): void {
    const context = { ...this.context, producerId: h.producerId, producerEpoch: h.producerEpoch, sequence: h.baseSequence }
    if (h.producerEpoch < epoch) {
      throw new KafkaliteError(
        'ERR_INVALID_PRODUCER_EPOCH',
        `Producer ${h.producerId} has epoch ${h.producerEpoch}, older than its current epoch ${epoch}: it was fenced`,
        { ...context, currentEpoch: epoch },
      )
    }
    if (h.producerEpoch !== epoch) {
      // A new epoch restarts the sequence at 0. An unknown producer (never seen, or its batches are gone
      // through retention or truncation) may start anywhere, as in Kafka.
      if (h.baseSequence !== 0 && epoch !== NO_EPOCH) {
        throw new KafkaliteError(
          'ERR_OUT_OF_ORDER_SEQUENCE',
          `Producer ${h.producerId} starts epoch ${h.producerEpoch} at sequence ${h.baseSequence}; a new epoch starts at 0`,
          { ...context, currentEpoch: epoch },
        )
      }
      return
    }
    // Same epoch: the batch must continue the sequence (a producer with no batch yet starts at 0).
    if (!inSequence(lastSeq, h.baseSequence)) {
      throw new KafkaliteError(
        'ERR_OUT_OF_ORDER_SEQUENCE',
        `Producer ${h.producerId} sent sequence ${h.baseSequence}, expected ${nextSequence(lastSeq)} (last sequence ${lastSeq})`,
        { ...context, lastSequence: lastSeq },
      )
    }
  }

  /** Records a batch the log has just written (or replayed) at [firstOffset, lastOffset]. */
  onBatchAppended(h: ProducerBatchHeader, firstOffset: Offset, lastOffset: Offset, maxTimestamp: TimestampMs): void {
    if (h.producerId < 0 || h.isControl) return
    let entry = this.entries.get(h.producerId)
    if (entry === undefined) {
      entry = { producerId: h.producerId, producerEpoch: h.producerEpoch, batches: [] }
      this.entries.set(h.producerId, entry)
    }
    if (h.producerEpoch !== entry.producerEpoch) {
      entry.producerEpoch = h.producerEpoch
      entry.batches = []
    }
    if (h.baseSequence === NO_SEQUENCE) return
    entry.batches.push({ firstSeq: h.baseSequence, lastSeq: h.lastSequence, firstOffset, lastOffset, maxTimestamp })
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift()
  }

  // -------------------------------------------------------------------------------------------------
  // Loading

  /** Loads the state for the log as `source()` describes it now (see the module comment). */
  load(): LoadReport {
    this.entries = new Map()
    this.stale = true
    const { segments, logEndOffset } = this.source()
    const problems: string[] = []
    this.snapshots = this.listSnapshots()
    for (const offset of this.snapshots.filter((o) => o > logEndOffset)) {
      this.deleteSnapshot(offset)
      problems.push(`deleted producer snapshot ${segmentFileName(offset, SNAPSHOT_SUFFIX)}: it is past the log end ${logEndOffset}`)
    }
    let snapshotOffset: Offset | undefined
    for (let i = this.snapshots.length - 1; i >= 0 && snapshotOffset === undefined; i--) {
      const offset = this.snapshots[i]!
      try {
        this.entries = entriesFromSnapshot(decodeProducerSnapshot(this.fs.readFile(this.snapshotPath(offset))))
        snapshotOffset = offset
      } catch (e) {
        if (!isKafkaliteError(e)) throw e
        this.deleteSnapshot(offset)
        problems.push(`deleted producer snapshot ${segmentFileName(offset, SNAPSHOT_SUFFIX)}: ${e.message}`)
      }
    }
    const from = Math.max(snapshotOffset ?? 0, segments[0]?.baseOffset ?? 0)
    const batchesReplayed = from < logEndOffset ? this.replay(segments, from, logEndOffset) : 0
    this.stale = false
    return { snapshotOffset, batchesReplayed, problems }
  }

  /**
   * After the log was truncated: snapshots past the new end are deleted and the state is reloaded. If
   * the reload fails (a read error), the state stays marked stale and is rebuilt by the next
   * `checkAppend`, which then throws if it still cannot be; until then nothing stale is ever consulted,
   * so a truncated batch can never be mistaken for a duplicate.
   */
  truncateAndReload(): void {
    const { logEndOffset } = this.source()
    this.stale = true
    this.entries = new Map()
    for (const offset of this.snapshots.filter((o) => o > logEndOffset)) this.deleteSnapshot(offset)
    try {
      this.load()
    } catch (e) {
      if (!isKafkaliteError(e)) throw e
    }
  }

  private ensureLoaded(): void {
    if (this.stale) this.load()
  }

  /** Applies the producer batches in [from, to) of the log, reading batch headers only. */
  private replay(segments: readonly LogSegment[], from: Offset, to: Offset): number {
    let count = 0
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!
      const next = segments[i + 1]
      if (next !== undefined && next.baseOffset <= from) continue
      if (segment.baseOffset >= to || segment.size === 0) continue
      const start = segment.baseOffset >= from ? 0 : segment.translateOffset(from)?.position
      if (start === undefined) continue
      const handle = this.fs.open(segment.logPath, 'r')
      try {
        scanBatches(handle, start, segment.size, 'header', (chunk, at) => {
          const h = readBatchHeader(chunk, at)
          if (h.baseOffset >= to) return false
          if (h.lastOffset >= from) {
            this.onBatchAppended(h, h.baseOffset, h.lastOffset, h.maxTimestamp)
            count++
          }
          return true
        })
      } finally {
        handle.close()
      }
    }
    return count
  }

  // -------------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * Writes `<offset>.snapshot` with the current state (which must be the state as of `offset`), then
   * deletes all but the newest SNAPSHOTS_TO_KEEP. Not fsynced (see the module comment). A failure to
   * write is not an append failure: the snapshot is only a shortcut, so the partial file is removed if
   * possible and the error dropped; a later load falls back to an older snapshot or to the log.
   */
  takeSnapshot(offset: Offset): void {
    // Stale state (a reload that failed) is emptied, not the state as of `offset`: a snapshot of it would
    // make the next load forget every producer and accept their retried duplicates as new.
    if (this.stale) return
    const path = this.snapshotPath(offset)
    try {
      const handle = this.fs.open(path, 'rw')
      try {
        handle.truncate(0)
        const bytes = this.encode()
        handle.write(bytes, 0, bytes.length, 0)
      } finally {
        handle.close()
      }
    } catch (e) {
      if (!isKafkaliteError(e)) throw e
      this.forget(offset)
      try {
        if (this.fs.exists(path)) this.fs.unlink(path)
      } catch {
        // A partial snapshot that cannot be removed fails its checks on the next load and is deleted then.
      }
      return
    }
    this.noteSnapshot(offset)
  }

  /** As `takeSnapshot`, then fsyncs the file and the directory (at close, so a clean reopen reads no log). */
  async takeSnapshotDurably(offset: Offset): Promise<void> {
    this.takeSnapshot(offset)
    if (!this.snapshots.includes(offset)) return
    try {
      const handle = this.fs.open(this.snapshotPath(offset), 'rw')
      try {
        await handle.sync()
      } finally {
        handle.close()
      }
      await this.fs.syncDir(this.dir)
    } catch (e) {
      if (!isKafkaliteError(e)) throw e
    }
  }

  private encode(): Buffer {
    const entries: ProducerSnapshotEntry[] = []
    for (const e of this.entries.values()) {
      const last = e.batches[e.batches.length - 1]
      entries.push({
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        lastSequence: last?.lastSeq ?? NO_SEQUENCE,
        lastOffset: last?.lastOffset ?? -1,
        offsetDelta: last === undefined ? 0 : last.lastOffset - last.firstOffset,
        timestamp: last?.maxTimestamp ?? -1,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: -1,
      })
    }
    return encodeProducerSnapshot(entries)
  }

  private noteSnapshot(offset: Offset): void {
    if (!this.snapshots.includes(offset)) {
      this.snapshots.push(offset)
      this.snapshots.sort((a, b) => a - b)
    }
    while (this.snapshots.length > SNAPSHOTS_TO_KEEP) this.deleteSnapshot(this.snapshots[0]!)
  }

  private deleteSnapshot(offset: Offset): void {
    const path = this.snapshotPath(offset)
    if (this.fs.exists(path)) this.fs.unlink(path)
    this.forget(offset)
  }

  private forget(offset: Offset): void {
    const i = this.snapshots.indexOf(offset)
    if (i >= 0) this.snapshots.splice(i, 1)
  }

  private listSnapshots(): Offset[] {
    if (!this.fs.exists(this.dir)) return []
    return this.fs
      .readdir(this.dir)
      .filter((n) => SNAPSHOT_NAME.test(n))
      .map((n) => offsetFromFileName(n)!)
      .sort((a, b) => a - b)
  }

  private snapshotPath(offset: Offset): string {
    return segmentPath(this.dir, offset, SNAPSHOT_SUFFIX)
  }
}

/** Kafka's `findDuplicateBatch`: a batch of the current epoch with exactly the same sequence range. */
function findDuplicate(entry: ProducerEntry, h: ProducerBatchHeader): BatchMetadata | undefined {
  if (h.producerEpoch !== entry.producerEpoch) return undefined
  return entry.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === h.lastSequence)
}

function lastSequenceOf(entry: ProducerEntry | undefined): number {
  return entry?.batches[entry.batches.length - 1]?.lastSeq ?? NO_SEQUENCE
}

/** Sequences wrap from int32 max to 0 (`DefaultRecordBatch.incrementSequence`). */
function nextSequence(sequence: number): number {
  return sequence === INT32_MAX ? 0 : sequence + 1
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === nextSequence(lastSeq)
}

/** `DefaultRecordBatch.decrementSequence`. */
function decrementSequence(sequence: number, decrement: number): number {
  return sequence < decrement ? INT32_MAX - (decrement - sequence) + 1 : sequence - decrement
}

function entriesFromSnapshot(snapshot: readonly ProducerSnapshotEntry[]): Map<number, ProducerEntry> {
  const entries = new Map<number, ProducerEntry>()
  for (const s of snapshot) {
    const batches: BatchMetadata[] =
      s.lastSequence === NO_SEQUENCE
        ? []
        : [
            {
              firstSeq: decrementSequence(s.lastSequence, s.offsetDelta),
              lastSeq: s.lastSequence,
              firstOffset: s.lastOffset - s.offsetDelta,
              lastOffset: s.lastOffset,
              maxTimestamp: s.timestamp,
            },
          ]
    entries.set(s.producerId, { producerId: s.producerId, producerEpoch: s.producerEpoch, batches })
  }
  return entries
}

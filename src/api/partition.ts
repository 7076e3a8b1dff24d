/**
 * A partition: Kafka's log, offset by offset. This is the public face of the storage layer's
 * PartitionLog; results are the log's own (no copies, no re-wrapping), and each call looks the log up by
 * name, so a Partition outlives nothing it should not: after `deleteTopic` it throws
 * ERR_UNKNOWN_TOPIC_OR_PARTITION, after `close` ERR_CLOSED.
 *
 * Concurrency: `append`, `read`, `readRecords`, `offsetForTimestamp` and `truncateTo` are synchronous
 * (one writer per partition holds by construction in a single-threaded process); only `flush` awaits.
 */
import { decodeRecords, forEachBatch, readBatchHeader, type Record } from '../codec/record-batch'
import type { Engine } from '../engine/engine'
import { InvalidArgumentError, describeValue } from '../errors/index'
import type { AppendResult, PartitionLog, ReadResult } from '../storage/partition-log'
import type { Offset, TimestampMs } from '../util/types'

/** Kafka's `max.partition.fetch.bytes` default: the read size when none is given. */
export const DEFAULT_READ_MAX_BYTES = 1024 * 1024

export interface ReadRecordsOptions {
  /** Upper bound on the bytes of batches read (at least one whole batch is always returned). Default 1 MiB. */
  maxBytes?: number
}

export interface ReadOptions {
  /**
   * A buffer to read into, which the caller owns and may reuse from one read to the next (as a raw-file
   * reader reuses its chunk buffer). The result's `records` is then a view of `buffer`, valid until the
   * next read into the same buffer: no allocation per read. A read fills at most `buffer.length` bytes,
   * from an index entry up to one batch (or `indexIntervalBytes`) before the offset, so a buffer of
   * `maxBytes` returns a little less than `maxBytes`; 64 KiB more returns all of it. A first batch larger
   * than the buffer comes in a new Buffer, as without this option (a read returns at least one batch).
   */
  buffer?: Buffer
}

export interface ReadRecordsResult {
  /** Records at or after the requested offset, in offset order; control records are left out. */
  records: Record[]
  /** Where the next read should start: one past the last batch read (the requested offset if none). */
  nextOffset: Offset
  highWatermark: Offset
  logStartOffset: Offset
  logEndOffset: Offset
}

export class Partition {
  readonly #engine: Engine

  /** @internal Obtain partitions with `kl.topic(name).partition(i)`. */
  constructor(
    engine: Engine,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.#engine = engine
  }

  /**
   * Appends complete RecordBatch v2 batches (build them with `encodeRecordBatch`). Every batch is
   * validated (CRC, size against maxMessageBytes, every record decoded) before anything is written.
   * Offsets are assigned by rewriting each batch's baseOffset in `batches` itself, as a broker does.
   * When this returns, the bytes are in the OS (they survive a process crash); `await flush()` makes
   * them survive a machine crash. With the default `durability: 'fsync'`, readers see the records once
   * they are fsynced (the high watermark), which this append schedules at once.
   */
  append(batches: Buffer): AppendResult {
    const log = this.log()
    if (!Buffer.isBuffer(batches)) throw new InvalidArgumentError(`append expects a Buffer of record batches, got ${describeValue(batches)}`, this.context())
    return log.append(batches, { deepValidation: true })
  }

  /**
   * Whole batches starting with the one that holds `fromOffset` (Kafka fetch semantics), up to
   * `maxBytes` but at least one batch, never past the high watermark. ERR_OFFSET_OUT_OF_RANGE outside
   * [logStartOffset, logEndOffset]. With `options.buffer`, the batches are read into that buffer (see
   * ReadOptions): a scan that reuses one buffer allocates nothing per read.
   */
  read(fromOffset: Offset, maxBytes: number = DEFAULT_READ_MAX_BYTES, options?: ReadOptions): ReadResult {
    const log = this.log()
    checkOffsetType(fromOffset, 'read', this.context())
    checkMaxBytes(maxBytes, this.context())
    if (options === undefined) return log.read(fromOffset, maxBytes)
    const buffer = options?.buffer ?? undefined
    if (buffer !== undefined && !Buffer.isBuffer(buffer)) throw new InvalidArgumentError(`read's buffer option must be a Buffer, got ${describeValue(buffer)}`, this.context())
    return log.read(fromOffset, maxBytes, { buffer })
  }

  /** `read`, decoded: the records at or after `fromOffset`, with the offset to read from next. */
  readRecords(fromOffset: Offset, options: ReadRecordsOptions = {}): ReadRecordsResult {
    const log = this.log()
    checkOffsetType(fromOffset, 'readRecords', this.context())
    const maxBytes = options?.maxBytes ?? DEFAULT_READ_MAX_BYTES
    checkMaxBytes(maxBytes, this.context())
    const result = log.read(fromOffset, maxBytes)
    const records: Record[] = []
    let nextOffset = fromOffset
    const decodeOptions = { maxDecompressedBytes: log.logConfig.maxDecompressedBatchBytes }
    forEachBatch(result.records, (pos) => {
      const header = readBatchHeader(result.records, pos)
      nextOffset = header.lastOffset + 1
      if (header.isControl) return
      for (const record of decodeRecords(result.records, pos, decodeOptions, this.context())) {
        if (record.offset >= fromOffset) records.push(record)
      }
    })
    return { records, nextOffset, highWatermark: result.highWatermark, logStartOffset: result.logStartOffset, logEndOffset: result.logEndOffset }
  }

  get logStartOffset(): Offset {
    return this.log().logStartOffset
  }

  get logEndOffset(): Offset {
    return this.log().logEndOffset
  }

  /** The end of what readers may see: fsynced records in 'fsync' durability, all records in 'none'. */
  get highWatermark(): Offset {
    return this.log().highWatermark
  }

  /** The earliest offset whose timestamp is ≥ `timestamp` (Kafka ListOffsets), or undefined if none. */
  offsetForTimestamp(timestamp: TimestampMs): { offset: Offset; timestamp: TimestampMs } | undefined {
    const log = this.log()
    if (!Number.isSafeInteger(timestamp)) throw new InvalidArgumentError(`timestamp must be an integer (ms since the epoch), got ${describeValue(timestamp)}`, this.context())
    return log.offsetForTimestamp(timestamp)
  }

  /**
   * Removes every record at or after `offset` (the whole batch holding it goes). ERR_OFFSET_OUT_OF_RANGE
   * below the log start offset.
   */
  truncateTo(offset: Offset): void {
    const log = this.log()
    checkOffsetType(offset, 'truncateTo', this.context())
    log.truncateTo(offset)
  }

  /** Resolves once everything appended so far is fsynced. */
  async flush(): Promise<void> {
    await this.log().flush()
  }

  private log(): PartitionLog {
    this.#engine.ensureOpen()
    return this.#engine.log(this.topic, this.partition)
  }

  private context(): { topic: string; partition: number } {
    return { topic: this.topic, partition: this.partition }
  }
}

/**
 * An offset must be an integer; one that is not is a wrong argument (the log would call "1.5" or "0"
 * out of range, or below the log start). Negative integers go on to the log, which reports them as
 * ERR_OFFSET_OUT_OF_RANGE with the log's bounds, as Kafka does.
 */
function checkOffsetType(offset: unknown, operation: string, context: { topic: string; partition: number }): void {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
    throw new InvalidArgumentError(`${operation} expects an integer offset, got ${describeValue(offset)}`, context)
  }
}

function checkMaxBytes(maxBytes: unknown, context: { topic: string; partition: number }): void {
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new InvalidArgumentError(`maxBytes must be a positive integer, got ${describeValue(maxBytes)}`, context)
  }
}

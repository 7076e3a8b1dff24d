/**
 * A producer batch (Kafka's ProducerBatch): the records buffered for one partition that will be
 * appended together as one RecordBatch, and the `send` calls waiting on them.
 *
 * Life of a batch: open (taking records) → ready (closed: full, lingered long enough, or flushed) →
 * appended (with acks 'all': waiting for its fsync) → done or failed. Records are written into the
 * batch's buffer as they are added (codec/batch-builder.ts, Kafka's MemoryRecordsBuilder); the header
 * and CRC are written once, at the first append attempt, when the sequence numbers are assigned, and a
 * retry appends the same bytes, so the partition can recognise it as a duplicate.
 *
 * Who waits for which record is kept as runs, not as an object per record: run k is `runCounts[k]`
 * consecutive records of the batch that are records `runStarts[k]…` of call `runCalls[k]`. A call's
 * records for one partition are usually consecutive, so a batch has a run or two per call.
 *
 * A `SendCall` is one `send`/`sendBatch` call: it resolves when each of its records has an outcome, or
 * rejects with the first failure. Its records may be spread over batches of several partitions.
 */
import { BatchBuilder, maxRecordSizeInBatch, recordFieldsSize, type BuildOptions, type BuilderBytes, type BuilderHeader } from '../codec/batch-builder'
import type { TimestampMs } from '../util/types'
import type { CheckedRecords, RecordMetadata } from './records'

export class SendCall {
  readonly promise: Promise<RecordMetadata[]>
  private readonly results: RecordMetadata[]
  private remaining: number
  private resolve!: (results: RecordMetadata[]) => void
  private reject!: (e: unknown) => void
  private settled = false

  /** `timestamps`: each record's CreateTime, by its index in the call. */
  constructor(
    size: number,
    private readonly timestamps: readonly number[],
  ) {
    this.results = new Array<RecordMetadata>(size)
    this.remaining = size
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }

  /**
   * Records `start … start + count - 1` of the call were appended to `topic`-`partition` at offsets
   * `firstOffset …` (-1: unknown). `logAppendTime` is the log's time, or -1 for CreateTime.
   */
  completeRun(topic: string, partition: number, start: number, count: number, firstOffset: number, logAppendTime: TimestampMs): void {
    if (this.settled) return
    const results = this.results
    const timestamps = this.timestamps
    for (let i = 0; i < count; i++) {
      results[start + i] = {
        topic,
        partition,
        offset: firstOffset < 0 ? -1 : firstOffset + i,
        timestamp: logAppendTime >= 0 ? logAppendTime : timestamps[start + i]!,
      }
    }
    this.remaining -= count
    if (this.remaining === 0) this.settle().resolve(results)
  }

  fail(error: unknown): void {
    if (!this.settled) this.settle().reject(error)
  }

  /** Resolves every record now (acks 0): later outcomes are ignored. */
  completeAll(results: RecordMetadata[]): void {
    if (!this.settled) this.settle().resolve(results)
  }

  private settle(): this {
    this.settled = true
    return this
  }
}

/** Producer id, epoch and base sequence stamped on an idempotent batch. */
export interface BatchIdentity {
  producerId: number
  producerEpoch: number
  baseSequence: number
}

export class ProducerBatch {
  /** The records, until the batch is built for its first attempt (then only `encoded` is kept, for retries). */
  private builder: BatchBuilder | undefined
  private runCalls: SendCall[] = []
  private runStarts: number[] = []
  private runCounts: number[] = []
  private count = 0
  /** Bytes reserved in the buffer pool for these records (their upper-bound sizes). */
  reservedBytes = 0
  /** Set at the first append attempt; a retry reuses it. */
  identity: BatchIdentity | undefined
  encoded: Buffer | undefined
  attempts = 0
  /** An attempt ended without telling whether the batch is in the log (an I/O error, a failed fsync). */
  mayBeWritten = false
  /** Incremented at every append attempt; outcomes of older attempts are ignored. */
  attempt = 0
  /** Position in the producer's encoding order (0 until encoded), which retries preserve. */
  order = 0
  readonly done: Promise<void>
  private markDone!: () => void

  /** `initialCapacity` and `maxCapacity`: the buffer sizes expected (BatchBuilder). */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdMs: TimestampMs,
    initialCapacity: number,
    maxCapacity: number,
  ) {
    this.builder = new BatchBuilder(initialCapacity, maxCapacity)
    this.done = new Promise<void>((resolve) => (this.markDone = resolve))
  }

  get recordCount(): number {
    return this.count
  }

  /** Bytes of the batch if it were built now (uncompressed). Open batches only. */
  get sizeInBytes(): number {
    return this.builder!.sizeInBytes
  }

  /** The exact bytes record `i` of `records` would add as the next record of this batch. */
  sizeOfNext(records: CheckedRecords, i: number): number {
    return this.builder!.sizeOfNext(records.fieldsBytes[i]!, records.timestamps[i]!)
  }

  /**
   * Writes record `i` of `records` (call `call`'s record `i`) into the batch, unless the batch would
   * then exceed `maxSize` bytes; returns whether it did.
   */
  add(records: CheckedRecords, i: number, call: SendCall, maxSize: number): boolean {
    return this.addRecord(records.timestamps[i]!, records.keys[i]!, records.values[i]!, records.headers?.[i], records.fieldsBytes[i]!, records.maxBytes[i]!, call, i, maxSize)
  }

  private addRecord(
    timestamp: TimestampMs,
    key: BuilderBytes,
    value: BuilderBytes,
    headers: readonly BuilderHeader[] | undefined,
    fieldsBytes: number,
    maxBytes: number,
    call: SendCall,
    index: number,
    maxSize: number,
  ): boolean {
    if (!this.builder!.append(timestamp, key, value, headers, fieldsBytes, maxSize)) return false
    this.count++
    this.reservedBytes += maxBytes
    const last = this.runCalls.length - 1
    if (last >= 0 && this.runCalls[last] === call && this.runStarts[last]! + this.runCounts[last]! === index) {
      this.runCounts[last]!++
    } else {
      this.runCalls.push(call)
      this.runStarts.push(index)
      this.runCounts.push(1)
    }
    return true
  }

  /** Writes the header and CRC (compressing as asked): the bytes to append. Once, before the first attempt. */
  build(options: BuildOptions): Buffer {
    return this.builder!.build(options)
  }

  /** Drops the records once `encoded` holds them. */
  releaseRecords(): void {
    this.builder = undefined
  }

  /**
   * Splits an unsent batch in two halves (a batch that came out too large when built). This batch is
   * done when both halves are, so that a `flush` that was waiting for it still waits for its records.
   * The halves hold exactly this batch's reservation between them.
   */
  split(): [ProducerBatch, ProducerBatch] {
    const records = this.builder!.records()
    const half = Math.ceil(records.length / 2)
    const capacity = Math.ceil(this.builder!.sizeInBytes / 2) + 64
    const halves: [ProducerBatch, ProducerBatch] = [
      new ProducerBatch(this.topic, this.partition, this.createdMs, capacity, Number.MAX_SAFE_INTEGER),
      new ProducerBatch(this.topic, this.partition, this.createdMs, capacity, Number.MAX_SAFE_INTEGER),
    ]
    let position = 0
    for (let run = 0; run < this.runCalls.length; run++) {
      for (let j = 0; j < this.runCounts[run]!; j++, position++) {
        const r = records[position]!
        const headers = r.headers.length === 0 ? undefined : r.headers
        const fieldsBytes = recordFieldsSize(r.key, r.value, headers)
        const target = halves[position < half ? 0 : 1]
        target.addRecord(r.timestamp, r.key, r.value, headers, fieldsBytes, maxRecordSizeInBatch(fieldsBytes), this.runCalls[run]!, this.runStarts[run]! + j, Infinity)
      }
    }
    halves[1].reservedBytes = this.reservedBytes - halves[0].reservedBytes
    void Promise.all(halves.map((h) => h.done)).then(() => this.markDone())
    return halves
  }

  /** Resolves every record's call with its offset (baseOffset + position) and timestamp. */
  complete(baseOffset: number, logAppendTime: TimestampMs): void {
    let offset = baseOffset
    for (let run = 0; run < this.runCalls.length; run++) {
      const count = this.runCounts[run]!
      this.runCalls[run]!.completeRun(this.topic, this.partition, this.runStarts[run]!, count, baseOffset < 0 ? -1 : offset, logAppendTime)
      offset += count
    }
    this.finish()
  }

  fail(error: unknown): void {
    for (const call of this.runCalls) call.fail(error)
    this.finish()
  }

  private finish(): void {
    this.encoded = undefined
    this.builder = undefined
    this.markDone()
  }
}

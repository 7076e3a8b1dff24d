/**
 * A producer batch (Kafka's ProducerBatch): the records buffered for one partition that will be
 * appended together as one RecordBatch, and the `send` calls waiting on them.
 *
 * Life of a batch: open (taking records) → ready (closed: full, lingered long enough, or flushed) →
 * appended (with acks 'all': waiting for its fsync) → done or failed. A ready batch is encoded once, at
 * its first append attempt, when its sequence numbers are assigned; a retry appends the same bytes, so
 * the partition can recognise it as a duplicate.
 *
 * A `SendCall` is one `send`/`sendBatch` call: it resolves when each of its records has an outcome, or
 * rejects with the first failure. Its records may be spread over batches of several partitions.
 */
import { RECORD_BATCH_OVERHEAD, type RecordInput } from '../codec/record-batch'
import type { TimestampMs } from '../util/types'
import type { PreparedRecord, RecordMetadata } from './records'
import { recordSizeInBatch } from './records'

export class SendCall {
  readonly promise: Promise<RecordMetadata[]>
  private readonly results: RecordMetadata[]
  private remaining: number
  private resolve!: (results: RecordMetadata[]) => void
  private reject!: (e: unknown) => void
  private settled = false

  constructor(size: number) {
    this.results = new Array<RecordMetadata>(size)
    this.remaining = size
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }

  complete(index: number, metadata: RecordMetadata): void {
    if (this.settled) return
    this.results[index] = metadata
    if (--this.remaining === 0) this.settle().resolve(this.results)
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

/** Where each record's outcome goes. */
interface BatchEntry {
  readonly call: SendCall
  readonly index: number
  readonly timestamp: TimestampMs
}

/** Producer id, epoch and base sequence stamped on an idempotent batch. */
export interface BatchIdentity {
  producerId: number
  producerEpoch: number
  baseSequence: number
}

export class ProducerBatch {
  entries: BatchEntry[] = []
  /** The records, until the batch is encoded (then only `encoded` is kept, for retries). */
  private records: PreparedRecord[] = []
  /** Bytes of the encoded batch if it were closed now (uncompressed). */
  sizeInBytes = RECORD_BATCH_OVERHEAD
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

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdMs: TimestampMs,
  ) {
    this.done = new Promise<void>((resolve) => (this.markDone = resolve))
  }

  get recordCount(): number {
    return this.entries.length
  }

  /** The exact bytes `record` would add as the next record of this batch. */
  sizeOf(record: PreparedRecord): number {
    const baseTimestamp = this.entries[0]?.timestamp ?? record.timestamp
    return recordSizeInBatch(record, this.entries.length, record.timestamp - baseTimestamp)
  }

  add(record: PreparedRecord, call: SendCall, index: number, size: number): void {
    this.records.push(record)
    this.entries.push({ call, index, timestamp: record.timestamp })
    this.sizeInBytes += size
    this.reservedBytes += record.maxSizeInBatch
  }

  /** The records for encoding; afterwards the batch keeps only its encoded bytes. */
  recordInputs(): RecordInput[] {
    // A PreparedRecord is a RecordInput (key, value, headers, timestamp; no offsetDelta): no copy per record.
    return this.records
  }

  /** Drops the records once `encoded` holds them. */
  releaseRecords(): void {
    this.records = []
  }

  /**
   * Splits an unsent batch in two halves (a batch that came out too large after encoding). This batch is
   * done when both halves are, so that a `flush` that was waiting for it still waits for its records.
   */
  split(): [ProducerBatch, ProducerBatch] {
    const half = Math.ceil(this.entries.length / 2)
    const halves = [0, 1].map((h) => {
      const b = new ProducerBatch(this.topic, this.partition, this.createdMs)
      const from = h === 0 ? 0 : half
      const to = h === 0 ? half : this.entries.length
      for (let i = from; i < to; i++) b.add(this.records[i]!, this.entries[i]!.call, this.entries[i]!.index, b.sizeOf(this.records[i]!))
      return b
    })
    void Promise.all(halves.map((h) => h.done)).then(() => this.markDone())
    return [halves[0]!, halves[1]!]
  }

  /** Resolves every record's call with its offset (baseOffset + position) and timestamp. */
  complete(baseOffset: number, logAppendTime: TimestampMs): void {
    const entries = this.entries
    for (let i = 0; i < entries.length; i++) {
      const { call, index, timestamp } = entries[i]!
      call.complete(index, {
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTime >= 0 ? logAppendTime : timestamp,
      })
    }
    this.finish()
  }

  fail(error: unknown): void {
    for (const { call } of this.entries) call.fail(error)
    this.finish()
  }

  private finish(): void {
    this.encoded = undefined
    this.records = []
    this.markDone()
  }
}

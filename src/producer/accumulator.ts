/**
 * Per-partition batching (Kafka's RecordAccumulator). Each partition the producer writes to has a
 * queue: at most one open batch taking records, then ready batches in send order, then the batches
 * appended and waiting for their fsync (acks 'all'). A record is written into the open batch's buffer
 * when it is added, so whether it fits is decided on its exact size at that position in the batch.
 *
 * A batch closes (becomes ready) when the next record would not fit in `batchSize` (or in the largest
 * batch the topic and `maxRequestSize` allow), as soon as it reaches `batchSize`, when `lingerMs` has
 * passed since it was opened, or on `flush`. With `lingerMs` 0 the producer closes the batches a send
 * touched at the end of that send, so one call still makes one batch per partition.
 *
 * Linger timers come from the injected clock; like every kafkalite timer they never keep the process
 * alive (see exit-flush.ts for what happens to lingering records when the process runs out of work).
 *
 * Concurrency: synchronous; called from `send` and from timers, never across an await.
 */
import { recordSizeInBatch } from '../codec/batch-builder'
import { RECORD_BATCH_OVERHEAD } from '../codec/record-batch'
import type { Clock, TimerHandle } from '../io/clock'
import type { TimestampMs } from '../util/types'
import { ProducerBatch, type SendCall } from './batch'
import type { CheckedRecords } from './records'

export class PartitionQueue {
  open: ProducerBatch | undefined
  /** Closed batches in send order; retried batches go back in front of those never attempted. */
  readonly ready: ProducerBatch[] = []
  /** Appended, waiting for their fsync (acks 'all'), in append order. */
  readonly inFlight: ProducerBatch[] = []
  lingerTimer: TimerHandle | undefined
  /** Set while a failed batch waits `retryBackoffMs` before it is appended again; the queue waits with it. */
  retryTimer: TimerHandle | undefined
  /** The base sequence of the next batch of an idempotent producer. */
  nextSequence = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Every batch of this queue that is not done yet. */
  *unfinished(): IterableIterator<ProducerBatch> {
    if (this.open !== undefined) yield this.open
    yield* this.ready
    yield* this.inFlight
  }
}

export class Accumulator {
  private readonly queues = new Map<string, PartitionQueue>()
  private readonly byTopic = new Map<string, PartitionQueue[]>()

  constructor(
    private readonly clock: Clock,
    private readonly batchSize: number,
    private readonly lingerMs: number,
    /** Called when a linger timer closed a batch, so that the sender appends it. */
    private readonly onLingerExpired: (queue: PartitionQueue) => void,
  ) {}

  allQueues(): IterableIterator<PartitionQueue> {
    return this.queues.values()
  }

  queue(topic: string, partition: number): PartitionQueue {
    // Looked up per record: a topic → partition-indexed array, so no key string is built per lookup.
    let byPartition = this.byTopic.get(topic)
    if (byPartition === undefined) {
      byPartition = []
      this.byTopic.set(topic, byPartition)
    }
    let q = byPartition[partition]
    if (q === undefined) {
      q = new PartitionQueue(topic, partition)
      byPartition[partition] = q
      this.queues.set(`${partition}:${topic}`, q)
    }
    return q
  }

  /**
   * Whether record `i` of `records` fits in the open batch of its partition (`maxBatchBytes` is the most
   * the topic and producer accept in one batch). If not, `append` closes that batch and opens another.
   */
  fits(topic: string, partition: number, records: CheckedRecords, i: number, maxBatchBytes: number): boolean {
    const batch = this.queue(topic, partition).open
    return batch === undefined || this.hasRoom(batch, batch.sizeOfNext(records, i), maxBatchBytes)
  }

  private hasRoom(batch: ProducerBatch, recordBytes: number, maxBatchBytes: number): boolean {
    const grown = batch.sizeInBytes + recordBytes
    return grown <= this.batchSize && grown <= maxBatchBytes
  }

  /**
   * Writes record `i` of `records` into the open batch of `q`, opening one when there is none or it has
   * no room. `remainingBytes` (an upper bound of what the call still adds, this record included) sizes
   * a new batch's buffer. Returns whether the batch became full and was closed.
   */
  append(q: PartitionQueue, records: CheckedRecords, i: number, call: SendCall, maxBatchBytes: number, now: TimestampMs, remainingBytes: number): boolean {
    // One size computation per record (this runs for every record sent): the batch sizes the record
    // and writes it, or refuses it when it does not fit. The first record of a batch always goes in.
    let batch = q.open
    if (batch === undefined || !batch.add(records, i, call, Math.min(this.batchSize, maxBatchBytes))) {
      if (batch !== undefined) this.close(q)
      batch = this.openBatch(q, now, records, i, maxBatchBytes, remainingBytes)
      batch.add(records, i, call, Infinity)
    }
    const full = batch.sizeInBytes >= this.batchSize
    if (full) this.close(q)
    return full
  }

  /** Moves the open batch of `q` to its ready list. */
  close(q: PartitionQueue): void {
    q.lingerTimer?.cancel()
    q.lingerTimer = undefined
    if (q.open === undefined) return
    q.ready.push(q.open)
    q.open = undefined
  }

  closeAll(): void {
    for (const q of this.queues.values()) this.close(q)
  }

  get hasOpenBatches(): boolean {
    for (const q of this.queues.values()) if (q.open !== undefined) return true
    return false
  }

  /** Every batch not done yet, across all partitions. */
  *unfinished(): IterableIterator<ProducerBatch> {
    for (const q of this.queues.values()) yield* q.unfinished()
  }

  /**
   * A batch's buffer is sized for what it will probably hold (Kafka allocates `batch.size`). With
   * lingerMs 0 a call's batches are closed at its end, so that is the rest of the call, up to the batch
   * limit, give or take the slack of the upper bounds; a single-record send gets a small buffer. With
   * lingerMs > 0 later calls fill the batch, so it starts at the limit (doubling from a small buffer
   * cost a copy of the batch). A record larger than the limit gets a batch of its own size; a batch
   * closed well short of its buffer is copied out at build (BatchBuilder), so none pins much more than
   * its bytes.
   */
  private openBatch(q: PartitionQueue, now: TimestampMs, records: CheckedRecords, i: number, maxBatchBytes: number, remainingBytes: number): ProducerBatch {
    const limit = Math.min(this.batchSize, maxBatchBytes)
    const first = RECORD_BATCH_OVERHEAD + recordSizeInBatch(records.fieldsBytes[i]!, 0, 0)
    const expected = this.lingerMs > 0 ? limit : Math.min(limit, RECORD_BATCH_OVERHEAD + remainingBytes)
    const capacity = Math.max(first, expected)
    const batch = new ProducerBatch(q.topic, q.partition, now, capacity, Math.max(limit, first))
    q.open = batch
    if (this.lingerMs > 0) {
      q.lingerTimer = this.clock.setTimeout(() => {
        q.lingerTimer = undefined
        if (q.open !== batch) return
        this.close(q)
        this.onLingerExpired(q)
      }, this.lingerMs)
    }
    return batch
  }
}

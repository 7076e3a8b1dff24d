/**
 * Per-partition batching (Kafka's RecordAccumulator). Each partition the producer writes to has a
 * queue: at most one open batch taking records, then ready batches in send order, then the batches
 * appended and waiting for their fsync (acks 'all').
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
import type { Clock, TimerHandle } from '../io/clock'
import type { TimestampMs } from '../util/types'
import { ProducerBatch, type SendCall } from './batch'
import type { PreparedRecord } from './records'

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
   * Whether `record` fits in the open batch of its partition (`maxBatchBytes` is the most the topic and
   * producer accept in one batch). If not, `append` closes that batch and opens another.
   */
  fits(topic: string, partition: number, record: PreparedRecord, maxBatchBytes: number): boolean {
    const batch = this.queue(topic, partition).open
    return batch === undefined || this.hasRoom(batch, batch.sizeOf(record), maxBatchBytes)
  }

  private hasRoom(batch: ProducerBatch, recordBytes: number, maxBatchBytes: number): boolean {
    const grown = batch.sizeInBytes + recordBytes
    return grown <= this.batchSize && grown <= maxBatchBytes
  }

  /**
   * Adds `record` to the open batch of its partition, opening one when there is none or it has no room.
   * Returns the queue, and whether the batch became full and was closed.
   */
  append(
    topic: string,
    partition: number,
    record: PreparedRecord,
    call: SendCall,
    index: number,
    maxBatchBytes: number,
    now: TimestampMs,
  ): { queue: PartitionQueue; full: boolean } {
    // One queue lookup and one size computation per record (this runs for every record sent).
    const q = this.queue(topic, partition)
    let batch = q.open
    let size = batch === undefined ? 0 : batch.sizeOf(record)
    if (batch !== undefined && !this.hasRoom(batch, size, maxBatchBytes)) {
      this.close(q)
      batch = undefined
    }
    if (batch === undefined) {
      batch = this.openBatch(q, now)
      size = batch.sizeOf(record)
    }
    batch.add(record, call, index, size)
    const full = batch.sizeInBytes >= this.batchSize
    if (full) this.close(q)
    return { queue: q, full }
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

  private openBatch(q: PartitionQueue, now: TimestampMs): ProducerBatch {
    const batch = new ProducerBatch(q.topic, q.partition, now)
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

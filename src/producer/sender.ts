/**
 * Appending ready batches to partition logs (Kafka's Sender, for one process) and the producer side of
 * idempotence (the idempotent part of Kafka's TransactionManager).
 *
 * The durability dial — what an acknowledged record survives (the README's "Durability" section says
 * the same):
 * - `acks: 0` resolves when the record is accepted into the producer's buffer (offset -1). It survives
 *   nothing yet: a process crash before the batch is appended loses it, and an append that fails later
 *   is not reported.
 * - `acks: 1` resolves when the batch is appended to the partition log: the bytes are in the OS page
 *   cache. It survives a process crash (the OS outlives the process), not a machine crash: the bytes
 *   may not have reached the disk yet.
 * - `acks: 'all'` resolves when the batch is fsynced (`log.flushUpTo`, one fsync shared by every batch
 *   appended meanwhile: group commit). It survives a process crash and a machine crash.
 * The topic's `durability` decides what readers see, whatever the acks: with 'fsync' (the default) the
 * high watermark only moves after an fsync, so a consumer never reads a record that a machine crash
 * could take back (an acks-1 record lost in a machine crash was never visible); with 'none' readers see
 * appended records at once, and a machine crash can take back records already read.
 *
 * Order and retries. Each partition's batches are appended in order, one at a time; with acks 'all' the
 * next batch is appended while earlier ones wait for their fsync (they share it). A batch whose append
 * failed with a retriable error (ERR_IO, ERR_NO_SPACE), or whose fsync failed, is appended again after
 * `retryBackoffMs` with the same bytes — the same producer id, epoch and sequence numbers — and the
 * partition's queue waits for it, so order holds. If the first attempt did reach the log (a write that
 * failed after the fact, an fsync that failed in 'none' durability, where the data stays), the
 * partition recognises the retry as a duplicate and returns the original offsets: the batch appears
 * once. In 'fsync' durability a failed fsync cuts the unsynced tail, and the retry writes it again.
 * Retries stop after `retries` attempts or when `deliveryTimeoutMs` since the batch was created would
 * pass, and the batch fails with its last error. A batch waiting for its fsync is not retried or timed
 * out: it is in the log and the fsync decides its fate.
 *
 * Sequences. A batch gets its producer id, epoch and base sequence when it is first appended, and the
 * partition's next sequence advances by its record count. A batch that fails without having reached the
 * log gives its sequences back to the next batch. A batch that fails when it may be in the log (or that
 * the partition refused as out of order or fenced) leaves the partition's sequence unknown, so the
 * producer bumps its epoch (Kafka's KIP-360 for idempotent producers): once every stamped batch has an
 * outcome, the epoch goes up by one and every partition restarts at sequence 0, which the partition
 * accepts from a new epoch. At epoch 32767 a new producer id is allocated instead.
 *
 * Concurrency: synchronous, driven by `send`, timers and fsync completions. Outcomes of an attempt are
 * ignored once the batch has been attempted again (`batch.attempt`), so a late callback cannot complete
 * or requeue a batch twice.
 */
import type { CompressionCodec } from '../codec/compression/index'
import type { ProducerConfig } from '../config/producer-config'
import type { TopicCompressionType } from '../config/topic-config'
import { isKafkaliteError, KafkaliteError, RecordTooLargeError } from '../errors/index'
import type { TimerHandle } from '../io/clock'
import type { AppendResult } from '../storage/partition-log'
import type { Accumulator, PartitionQueue } from './accumulator'
import type { ProducerBatch } from './batch'
import type { BufferPool } from './buffer-pool'
import type { ProducerHost, ProducerIdAndEpoch, ProducerLog } from './host'

export type SenderConfig = Pick<
  ProducerConfig,
  'acks' | 'idempotent' | 'retries' | 'retryBackoffMs' | 'deliveryTimeoutMs' | 'maxRequestSize' | 'compressionType'
>

const MAX_PRODUCER_EPOCH = 32767
const MAX_SEQUENCE = 0x7fffffff

type Preparation = 'ready' | 'changed' | 'wait'

export class Sender {
  private identity: ProducerIdAndEpoch | undefined
  private identityRequest: Promise<void> | undefined
  private epochBumpPending = false
  /** Batches stamped with a producer id whose outcome is not known yet; the epoch only moves at 0. */
  private stampedUnresolved = 0
  /** Encoding order of batches, so that retried batches go back in their original order. */
  private encodedCount = 0
  /** Fires at the earliest delivery deadline of the batches waiting for a producer id or an epoch bump. */
  private expiryTimer: { at: number; handle: TimerHandle } | undefined

  constructor(
    private readonly host: ProducerHost,
    private readonly config: SenderConfig,
    private readonly pool: BufferPool,
    private readonly accumulator: Accumulator,
  ) {}

  /** The producer id and epoch in use (idempotent producers, once allocated). */
  get producerIdAndEpoch(): Readonly<ProducerIdAndEpoch> | undefined {
    return this.identity
  }

  /** Starts allocating the producer id now, while the host is certainly open. */
  start(): void {
    if (this.config.idempotent) this.requestIdentity()
  }

  drainAll(): void {
    for (const q of this.accumulator.allQueues()) this.drain(q)
  }

  /** Appends the ready batches of `q` in order, until one must wait (retry backoff, producer id). */
  drain(q: PartitionQueue): void {
    while (q.retryTimer === undefined && q.ready.length > 0) {
      const batch = q.ready[0]!
      if (batch.encoded === undefined) {
        const preparation = this.prepare(q, batch)
        if (preparation === 'wait') return this.armExpiry()
        if (preparation === 'changed') continue
      }
      q.ready.shift()
      this.append(q, batch)
    }
  }

  /**
   * Builds the head batch of `q` for its first attempt (its records are already in its buffer): stamps
   * the producer id, epoch and sequence, compresses with the topic's codec (or the producer's), and
   * checks the size against what the topic and `maxRequestSize` accept. A batch that came out too
   * large is split in two (Kafka splits on MESSAGE_TOO_LARGE too); a single record that does is
   * refused, with nothing written.
   */
  private prepare(q: PartitionQueue, batch: ProducerBatch): Preparation {
    const now = this.host.clock.now()
    if (now >= batch.createdMs + this.config.deliveryTimeoutMs) {
      q.ready.shift()
      this.fail(q, batch, expiredError(batch, now - batch.createdMs, this.config.deliveryTimeoutMs))
      return 'changed'
    }
    if (this.config.idempotent && !this.canStamp()) return 'wait'
    const identity = this.identity && { ...this.identity, baseSequence: q.nextSequence }
    let encoded: Buffer
    let limit: number
    try {
      const topicConfig = this.host.topicConfig(batch.topic)
      limit = Math.min(this.config.maxRequestSize, topicConfig.maxMessageBytes)
      encoded = batch.build({ compression: codecFor(topicConfig.compressionType, this.config.compressionType), ...identity })
    } catch (e) {
      q.ready.shift()
      this.fail(q, batch, e)
      return 'changed'
    }
    if (encoded.length > limit) {
      if (batch.recordCount > 1) {
        q.ready.splice(0, 1, ...batch.split())
      } else {
        q.ready.shift()
        this.fail(q, batch, tooLargeError(batch, encoded.length, limit))
      }
      return 'changed'
    }
    batch.encoded = encoded
    batch.order = ++this.encodedCount
    batch.releaseRecords()
    if (identity !== undefined) {
      batch.identity = identity
      q.nextSequence = incrementSequence(q.nextSequence, batch.recordCount)
      this.stampedUnresolved++
    }
    return 'ready'
  }

  private append(q: PartitionQueue, batch: ProducerBatch): void {
    batch.attempts++
    const attempt = ++batch.attempt
    let log: ProducerLog
    let result: AppendResult
    try {
      log = this.host.log(batch.topic, batch.partition)
      result = log.append(batch.encoded!, { deepValidation: false })
    } catch (e) {
      this.onAppendFailed(q, batch, e)
      return
    }
    if (this.config.acks !== 'all') {
      this.succeed(q, batch, result)
      return
    }
    q.inFlight.push(batch)
    log.flushUpTo(result.lastOffset).then(
      () => {
        if (batch.attempt === attempt) this.succeed(q, batch, result)
      },
      (e: unknown) => {
        if (batch.attempt === attempt) this.onFlushFailed(q, batch, e)
      },
    )
  }

  private succeed(q: PartitionQueue, batch: ProducerBatch, result: AppendResult): void {
    remove(q.inFlight, batch)
    batch.complete(this.config.acks === 0 ? -1 : result.baseOffset, result.logAppendTime)
    this.finish(batch)
  }

  private onAppendFailed(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    if (isRetriable(error)) {
      // The log undoes a failed write, but a write may also fail after the bytes landed (the failure
      // could come from anywhere below us): the retry's dedup covers both.
      batch.mayBeWritten = true
      this.retry(q, batch, error)
    } else if (isKafkaliteError(error, 'ERR_OUT_OF_ORDER_SEQUENCE') && q.inFlight.length > 0) {
      // An earlier batch of this partition is being cut by a failed fsync and will be appended again
      // first; this one follows it then.
      this.retry(q, batch, error)
    } else {
      this.fail(q, batch, error)
    }
  }

  private onFlushFailed(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    remove(q.inFlight, batch)
    // In 'none' durability the appended bytes stay in the log; in 'fsync' durability they were cut.
    batch.mayBeWritten = true
    if (isRetriable(error)) this.retry(q, batch, error)
    else this.fail(q, batch, error)
  }

  /** Puts `batch` back in front of the batches never attempted (in encoding order) and backs off. */
  private retry(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    const now = this.host.clock.now()
    if (batch.attempts > this.config.retries || now + this.config.retryBackoffMs >= batch.createdMs + this.config.deliveryTimeoutMs) {
      this.fail(q, batch, error)
      return
    }
    const at = q.ready.findIndex((b) => b.attempts === 0 || b.order > batch.order)
    q.ready.splice(at < 0 ? q.ready.length : at, 0, batch)
    // A retry is a send the caller is still awaiting (bounded by retries and deliveryTimeoutMs), not
    // background work: it keeps the process alive, so an idle process cannot exit with it unsettled.
    q.retryTimer ??= this.host.clock.setTimeout(
      () => {
        q.retryTimer = undefined
        this.drain(q)
      },
      this.config.retryBackoffMs,
      { keepAlive: true },
    )
  }

  private fail(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    remove(q.inFlight, batch)
    if (batch.identity !== undefined) {
      if (batch.mayBeWritten || isSequenceError(error)) this.epochBumpPending = true
      // Nothing of it reached the log, and no later batch of this partition has sequences yet (they are
      // stamped one at a time at the head of the queue): the next batch takes its sequences.
      else q.nextSequence = batch.identity.baseSequence
    }
    batch.fail(error)
    this.finish(batch)
  }

  private finish(batch: ProducerBatch): void {
    this.pool.release(batch.reservedBytes)
    if (batch.identity !== undefined) {
      this.stampedUnresolved--
      this.maybeBumpEpoch()
    }
  }

  /**
   * Batches never attempted wait at the head of their queues for a producer id or an epoch bump, which
   * can take long (an allocation that hangs on a slow disk, a bump that waits for a stuck fsync). They
   * must still fail at their delivery deadline, as Kafka expires batches in its accumulator: a timer at
   * the earliest deadline fails those that are due (they have no sequences, so any of them can go).
   */
  private armExpiry(): void {
    let earliest = Infinity
    for (const q of this.accumulator.allQueues()) {
      for (const b of q.ready) if (b.attempts === 0) earliest = Math.min(earliest, b.createdMs + this.config.deliveryTimeoutMs)
    }
    if (earliest === Infinity || (this.expiryTimer !== undefined && this.expiryTimer.at <= earliest)) return
    this.expiryTimer?.handle.cancel()
    const handle = this.host.clock.setTimeout(() => {
      this.expiryTimer = undefined
      this.expireWaiting()
      this.drainAll()
    }, earliest - this.host.clock.now())
    this.expiryTimer = { at: earliest, handle }
  }

  private expireWaiting(): void {
    const now = this.host.clock.now()
    for (const q of this.accumulator.allQueues()) {
      const due = q.ready.filter((b) => b.attempts === 0 && b.encoded === undefined && now >= b.createdMs + this.config.deliveryTimeoutMs)
      for (const b of due) {
        remove(q.ready, b)
        this.fail(q, b, expiredError(b, now - b.createdMs, this.config.deliveryTimeoutMs))
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Producer id and epoch

  /** Whether a new batch may be stamped now; if not, a drain of every queue follows when it may. */
  private canStamp(): boolean {
    if (this.epochBumpPending) return false
    if (this.identity !== undefined) return true
    this.requestIdentity()
    return false
  }

  private requestIdentity(): void {
    if (this.identityRequest !== undefined) return
    this.identityRequest = new Promise<ProducerIdAndEpoch>((resolve) => resolve(this.host.allocateProducerId())).then(
      (identity) => {
        this.identityRequest = undefined
        this.identity = { producerId: identity.producerId, producerEpoch: identity.producerEpoch }
        this.drainAll()
      },
      (e: unknown) => {
        this.identityRequest = undefined
        this.failUnstamped(e)
      },
    )
  }

  /** Without a producer id no batch can be appended: the ready ones fail (nothing was written). */
  private failUnstamped(error: unknown): void {
    for (const q of this.accumulator.allQueues()) {
      const waiting = q.ready.filter((b) => b.encoded === undefined)
      for (const b of waiting) {
        remove(q.ready, b)
        this.fail(q, b, error)
      }
    }
  }

  private maybeBumpEpoch(): void {
    if (!this.epochBumpPending || this.stampedUnresolved > 0) return
    this.epochBumpPending = false
    for (const q of this.accumulator.allQueues()) q.nextSequence = 0
    if (this.identity !== undefined && this.identity.producerEpoch < MAX_PRODUCER_EPOCH) {
      this.identity = { producerId: this.identity.producerId, producerEpoch: this.identity.producerEpoch + 1 }
    } else {
      this.identity = undefined
    }
    // Not re-entrantly: this runs inside a drain or a completion.
    queueMicrotask(() => this.drainAll())
  }
}

function codecFor(topic: TopicCompressionType, producer: CompressionCodec): CompressionCodec {
  if (topic === 'producer') return producer
  return topic === 'uncompressed' ? 'none' : topic
}

function isRetriable(e: unknown): boolean {
  return isKafkaliteError(e, 'ERR_IO') || isKafkaliteError(e, 'ERR_NO_SPACE')
}

function isSequenceError(e: unknown): boolean {
  return isKafkaliteError(e, 'ERR_OUT_OF_ORDER_SEQUENCE') || isKafkaliteError(e, 'ERR_INVALID_PRODUCER_EPOCH')
}

/** `DefaultRecordBatch.incrementSequence`: sequences wrap from int32 max to 0. */
function incrementSequence(sequence: number, increment: number): number {
  return sequence > MAX_SEQUENCE - increment ? increment - (MAX_SEQUENCE - sequence) - 1 : sequence + increment
}

function remove(list: ProducerBatch[], batch: ProducerBatch): void {
  const i = list.indexOf(batch)
  if (i >= 0) list.splice(i, 1)
}

function expiredError(batch: ProducerBatch, elapsedMs: number, deliveryTimeoutMs: number): KafkaliteError {
  return new KafkaliteError(
    'ERR_TIMEOUT',
    `Expiring ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition}: ${elapsedMs} ms has passed since batch creation (deliveryTimeoutMs ${deliveryTimeoutMs}); nothing was written`,
    { topic: batch.topic, partition: batch.partition, deliveryTimeoutMs },
  )
}

function tooLargeError(batch: ProducerBatch, size: number, limit: number): RecordTooLargeError {
  return new RecordTooLargeError(
    `A record for ${batch.topic}-${batch.partition} makes a ${size}-byte batch once encoded, over the limit of ${limit} bytes ` +
      '(the smaller of the producer\'s maxRequestSize and the topic\'s maxMessageBytes); nothing was written',
    { topic: batch.topic, partition: batch.partition, size, limit },
  )
}

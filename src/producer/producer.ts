/**
 * The Producer: Kafka's KafkaProducer semantics inside one process. `send` checks and copies the
 * records, reserves buffer memory, picks partitions, and adds the records to per-partition batches;
 * the sender appends each batch to its partition log when it is full, when `lingerMs` has passed, or on
 * `flush`. What an acknowledged record survives depends on `acks` (sender.ts, README "Durability").
 *
 * All or nothing per call: every record of a `send`/`sendBatch` call is checked (types, topic,
 * partition range, size limits, the custom partitioner's answer) before any is buffered, and the call's
 * buffer space is reserved whole, so an invalid call or one that times out waiting for memory leaves
 * nothing behind. (A topic the host auto-creates is created once the records are found valid, and stays,
 * as in Kafka, even if a later check fails.) Once accepted, records of different partitions are appended
 * independently (as in Kafka), so a later I/O failure can fail some partitions' records and not others;
 * the call then rejects with the first failure.
 *
 * Lifecycle (engine/lifecycle.ts's state machine): open → closing → closed. `close()` stops new sends,
 * fails sends still waiting for buffer space with ERR_CLOSED, flushes everything buffered, and is
 * idempotent. The producer registers with its host's close hooks, so closing the data directory closes
 * (and flushes) its producers first.
 *
 * Concurrency: single-threaded; `send` never awaits between checking a call against its topics and
 * buffering it, except to wait for buffer space, after which the partition counts are read again.
 */
import { RECORD_BATCH_OVERHEAD } from '../codec/record-batch'
import { resolveProducerConfig, type ProducerConfig, type ProducerConfigInput } from '../config/producer-config'
import { Lifecycle } from '../engine/lifecycle'
import { ClosedError, describeValue, InvalidArgumentError, isKafkaliteError, KafkaliteError, RecordTooLargeError } from '../errors/index'
import type { TimestampMs } from '../util/types'
import { Accumulator, type PartitionQueue } from './accumulator'
import { SendCall } from './batch'
import { BufferPool } from './buffer-pool'
import { onProcessIdle } from './exit-flush'
import type { ProducerHost, ProducerIdAndEpoch } from './host'
import { createPartitioner, type ProducerPartitioner } from './partitioners'
import { prepareRecord, recordSizeInBatch, type PreparedRecord, type ProducerRecord, type RecordMetadata, type TopicMessages } from './records'
import { Sender } from './sender'

/** Producer options: Kafka's producer configs, camelCased (see config/producer-config.ts). */
export type ProducerOptions = ProducerConfigInput

/** The checked records of one topic in a call. */
interface PreparedGroup {
  readonly topic: string
  readonly records: readonly PreparedRecord[]
}

/** A record checked and placed: its partition is known unless the choice is stateful (sticky, round-robin). */
interface AcceptedRecord {
  readonly topic: string
  readonly record: PreparedRecord
  readonly partition: number | undefined
  /** The largest batch the topic and producer accept, for this record's batch. */
  readonly maxBatchBytes: number
}

export class Producer {
  readonly config: Readonly<ProducerConfig>
  readonly #host: ProducerHost
  readonly #lifecycle = new Lifecycle('Producer')
  readonly #pool: BufferPool
  readonly #accumulator: Accumulator
  readonly #sender: Sender
  readonly #partitioner: ProducerPartitioner
  readonly #unregisterClose: () => void
  readonly #unregisterIdle: () => void
  #closing: Promise<void> | undefined

  /**
   * @internal Obtain producers with `kl.producer(options)`. `random` (for tests) drives the sticky
   * partitioner's choices.
   */
  constructor(host: ProducerHost, options: ProducerOptions = {}, random: () => number = Math.random) {
    this.config = resolveProducerConfig(options)
    this.#host = host
    host.ensureOpen()
    this.#pool = new BufferPool(this.config.bufferMemory, host.clock)
    this.#accumulator = new Accumulator(host.clock, this.config.batchSize, this.config.lingerMs, (q) => this.#sender.drain(q))
    this.#sender = new Sender(host, this.config, this.#pool, this.#accumulator)
    this.#partitioner = createPartitioner(this.config.partitioner, random)
    this.#unregisterClose = host.onClose(() => this.close())
    this.#unregisterIdle = onProcessIdle(() => this.#sendLingering())
    this.#lifecycle.transition('open')
    this.#sender.start()
  }

  /**
   * Sends one record (resolves to its metadata) or an array of records to one topic (resolves to
   * their metadata, in order). See the module comment for what is checked and what "resolves" means
   * for each `acks`.
   */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata>
  send(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]>
  send(topic: string, records: ProducerRecord | readonly ProducerRecord[]): Promise<RecordMetadata | RecordMetadata[]> {
    if (Array.isArray(records)) return this.#submit([{ topic, messages: records }])
    return this.#submit([{ topic, messages: [records as ProducerRecord] }]).then((r) => r[0]!)
  }

  /** Sends records to several topics in one call; resolves to their metadata in the order given. */
  sendBatch(topicMessages: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    if (!Array.isArray(topicMessages)) {
      return Promise.reject(new InvalidArgumentError(`sendBatch expects an array of { topic, messages }, got ${describeValue(topicMessages)}`))
    }
    return this.#submit(topicMessages)
  }

  /**
   * Appends every buffered batch now (ignoring lingerMs) and resolves once every record sent before the
   * call has an outcome (for acks 'all': is fsynced). It does not reject: failures go to the sends.
   */
  async flush(): Promise<void> {
    this.#accumulator.closeAll()
    this.#sender.drainAll()
    await Promise.all(Array.from(this.#accumulator.unfinished(), (b) => b.done))
  }

  /** Stops new sends, flushes, and releases the producer. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown())
  }

  get closed(): boolean {
    return this.#lifecycle.state === 'closing' || this.#lifecycle.state === 'closed'
  }

  /** Bytes of records held now (accepted and not yet done), never more than `bufferMemory`. */
  get bufferedBytes(): number {
    return this.#pool.used
  }

  /** The producer id and epoch stamped on its batches (idempotent producers, once allocated). */
  get producerIdAndEpoch(): Readonly<ProducerIdAndEpoch> | undefined {
    return this.#sender.producerIdAndEpoch
  }

  async #shutdown(): Promise<void> {
    this.#lifecycle.transition('closing')
    this.#pool.failWaiters(new ClosedError('Producer'))
    try {
      await this.flush()
    } finally {
      this.#unregisterClose()
      this.#unregisterIdle()
      this.#lifecycle.transition('closed')
    }
  }

  /**
   * Checks the records, makes sure their topics exist (the host creates missing ones when it
   * auto-creates topics, as Kafka does on a producer's metadata request; only after every record was
   * found valid), places them, reserves their buffer space, and buffers them.
   */
  #submit(groups: readonly TopicMessages[]): Promise<RecordMetadata[]> {
    try {
      this.#lifecycle.ensureOpen()
      this.#host.ensureOpen()
      const prepared = this.#prepare(groups)
      const missing = this.#host.ensureTopic === undefined ? [] : prepared.map((g) => g.topic).filter((t) => !this.#topicExists(t))
      if (missing.length === 0) return this.#accept(prepared)
      return Promise.all([...new Set(missing)].map((t) => this.#host.ensureTopic!(t))).then(() => {
        this.#lifecycle.ensureOpen()
        return this.#accept(prepared)
      })
    } catch (e) {
      return Promise.reject(e)
    }
  }

  #accept(prepared: readonly PreparedGroup[]): Promise<RecordMetadata[]> {
    let accepted: AcceptedRecord[]
    let bytes = 0
    try {
      accepted = this.#place(prepared)
      for (const a of accepted) bytes += a.record.maxSizeInBatch
      if (bytes > this.config.bufferMemory) {
        throw new KafkaliteError(
          'ERR_BUFFER_EXHAUSTED',
          `This call's ${accepted.length} records take ${bytes} bytes, more than the whole bufferMemory (${this.config.bufferMemory}); split the call or raise bufferMemory`,
          { bytes, bufferMemory: this.config.bufferMemory },
        )
      }
    } catch (e) {
      return Promise.reject(e)
    }
    if (accepted.length === 0) return Promise.resolve([])
    const call = new SendCall(accepted.length)
    if (this.#pool.tryReserve(bytes)) {
      this.#buffer(accepted, call)
    } else {
      this.#pool.reserve(bytes, this.config.maxBlockMs).then(
        () => {
          try {
            this.#lifecycle.ensureOpen()
            this.#buffer(accepted, call)
          } catch (e) {
            this.#pool.release(bytes)
            call.fail(e)
          }
        },
        (e: unknown) => call.fail(e),
      )
    }
    return call.promise
  }

  /** Checks the shape of the call and every record, copying their bytes; needs no topic. */
  #prepare(groups: readonly TopicMessages[]): PreparedGroup[] {
    const now = this.#host.clock.now()
    return groups.map((group) => {
      if (typeof group !== 'object' || group === null) throw new InvalidArgumentError(`Expected { topic, messages }, got ${describeValue(group)}`)
      const { topic, messages } = group
      if (typeof topic !== 'string') throw new InvalidArgumentError(`A topic name must be a string, got ${describeValue(topic)}`)
      if (!Array.isArray(messages)) throw new InvalidArgumentError(`Records for ${topic} must be an array, got ${describeValue(messages)}`, { topic })
      return { topic, records: messages.map((input: unknown, index) => prepareRecord(input, now, { topic, index })) }
    })
  }

  #topicExists(topic: string): boolean {
    try {
      this.#host.partitionCount(topic)
      return true
    } catch (e) {
      if (isKafkaliteError(e, 'ERR_UNKNOWN_TOPIC_OR_PARTITION')) return false
      throw e
    }
  }

  /** Checks the records against their topics (partition range, size limits) and makes the fixed partition choices. */
  #place(prepared: readonly PreparedGroup[]): AcceptedRecord[] {
    const accepted: AcceptedRecord[] = []
    for (const { topic, records } of prepared) {
      const numPartitions = this.#host.partitionCount(topic)
      const maxBatchBytes = Math.min(this.config.maxRequestSize, this.#host.topicConfig(topic).maxMessageBytes)
      records.forEach((record, index) => {
        if (record.partition !== undefined && record.partition >= numPartitions) {
          throw new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', `Partition ${record.partition} of topic ${topic} does not exist (it has ${numPartitions})`, {
            topic,
            partition: record.partition,
          })
        }
        this.#checkSize(record, maxBatchBytes, { topic, index })
        accepted.push({ topic, record, partition: this.#partitioner.fixedPartition(topic, record, numPartitions), maxBatchBytes })
      })
    }
    return accepted
  }

  /** Kafka's `ensureValidRecordSize`, on the uncompressed size: one record alone must fit every limit. */
  #checkSize(record: PreparedRecord, maxBatchBytes: number, context: { topic: string; index: number }): void {
    const alone = RECORD_BATCH_OVERHEAD + recordSizeInBatch(record, 0, 0)
    if (alone > maxBatchBytes) {
      const limitName = maxBatchBytes === this.config.maxRequestSize ? 'the producer\'s maxRequestSize' : 'the topic\'s maxMessageBytes'
      throw new RecordTooLargeError(`Record ${context.index} for ${context.topic} makes a ${alone}-byte batch, over ${limitName} (${maxBatchBytes})`, {
        ...context,
        size: alone,
        limit: maxBatchBytes,
      })
    }
    if (record.maxSizeInBatch > this.config.bufferMemory) {
      throw new RecordTooLargeError(`Record ${context.index} for ${context.topic} takes ${record.maxSizeInBatch} bytes, more than bufferMemory (${this.config.bufferMemory})`, {
        ...context,
        size: record.maxSizeInBatch,
        bufferMemory: this.config.bufferMemory,
      })
    }
  }

  /**
   * Adds the accepted records to their partitions' batches (their buffer space is reserved), then
   * appends what is ready. Partition counts are read first, so a topic deleted while the call waited for
   * memory fails the call before anything is buffered.
   */
  #buffer(accepted: readonly AcceptedRecord[], call: SendCall): void {
    const counts = new Map<string, number>()
    for (const a of accepted) if (a.partition === undefined && !counts.has(a.topic)) counts.set(a.topic, this.#host.partitionCount(a.topic))
    const now: TimestampMs = this.#host.clock.now()
    const touched = new Set<PartitionQueue>()
    const partitions = accepted.map((a, index) => {
      const partition = a.partition ?? this.#stickyOrNext(a, counts.get(a.topic)!, touched)
      const { queue, full } = this.#accumulator.append(a.topic, partition, a.record, call, index, a.maxBatchBytes, now)
      if (full && a.partition === undefined) this.#partitioner.onBatchFull(a.topic, partition)
      touched.add(queue)
      return partition
    })
    // acks 0: the records are accepted; their offsets are not waited for (Kafka reports -1).
    if (this.config.acks === 0) {
      call.completeAll(accepted.map((a, i) => ({ topic: a.topic, partition: partitions[i]!, offset: -1, timestamp: a.record.timestamp })))
    }
    for (const q of touched) {
      if (this.config.lingerMs === 0) this.#accumulator.close(q)
      this.#sender.drain(q)
    }
  }

  /**
   * The partition of a record the partitioner places statefully. A sticky partition whose batch cannot
   * take the record is full: the batch is closed and another partition chosen.
   */
  #stickyOrNext(a: AcceptedRecord, numPartitions: number, touched: Set<PartitionQueue>): number {
    const partition = this.#partitioner.next(a.topic, numPartitions)
    if (!this.#partitioner.sticky || this.#accumulator.fits(a.topic, partition, a.record, a.maxBatchBytes)) return partition
    const full = this.#accumulator.queue(a.topic, partition)
    this.#accumulator.close(full)
    touched.add(full)
    this.#partitioner.onBatchFull(a.topic, partition)
    return this.#partitioner.next(a.topic, numPartitions)
  }

  /** The process is about to exit for lack of work: append lingering batches now (exit-flush.ts). */
  /** Appends every lingering batch now (the process is idle); whether there was any. */
  #sendLingering(): boolean {
    if (this.#lifecycle.state === 'closed' || !this.#accumulator.hasOpenBatches) return false
    this.#accumulator.closeAll()
    this.#sender.drainAll()
    return true
  }
}

/**
 * The Producer: Kafka's KafkaProducer semantics inside one process. `send` checks the records,
 * reserves buffer memory, picks partitions, and writes each record straight into its partition's open
 * batch (one copy of its bytes, records.ts and codec/batch-builder.ts); the sender appends each batch
 * to its partition log when it is full, when `lingerMs` has passed, or on `flush`. What an acknowledged
 * record survives depends on `acks` (sender.ts, README "Durability").
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
import { recordSizeInBatch } from '../codec/batch-builder'
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
import { CheckedRecords, NO_PARTITION, type CheckedGroup, type ProducerRecord, type RecordMetadata, type TopicMessages } from './records'
import { Sender } from './sender'

/** Producer options: Kafka's producer configs, camelCased (see config/producer-config.ts). */
export type ProducerOptions = ProducerConfigInput

/** One topic's records of a call, checked against the topic. */
interface PlacedGroup extends CheckedGroup {
  /** The largest batch the topic and producer accept. */
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
      const records = CheckedRecords.check(groups, this.#host.clock.now())
      const missing = this.#host.ensureTopic === undefined ? [] : records.groups.map((g) => g.topic).filter((t) => !this.#topicExists(t))
      if (missing.length === 0) return this.#accept(records)
      // `send` returns before the records are buffered: they must not depend on the caller's buffers.
      records.copyBytes()
      return Promise.all([...new Set(missing)].map((t) => this.#host.ensureTopic!(t))).then(() => {
        this.#lifecycle.ensureOpen()
        return this.#accept(records)
      })
    } catch (e) {
      return Promise.reject(e)
    }
  }

  #accept(records: CheckedRecords): Promise<RecordMetadata[]> {
    let placed: PlacedGroup[]
    const bytes = records.totalMaxBytes
    try {
      placed = this.#place(records)
      if (bytes > this.config.bufferMemory) {
        throw new KafkaliteError(
          'ERR_BUFFER_EXHAUSTED',
          `This call's ${records.count} records take ${bytes} bytes, more than the whole bufferMemory (${this.config.bufferMemory}); split the call or raise bufferMemory`,
          { bytes, bufferMemory: this.config.bufferMemory },
        )
      }
    } catch (e) {
      return Promise.reject(e)
    }
    if (records.count === 0) return Promise.resolve([])
    const call = new SendCall(records.count, records.timestamps)
    if (this.#pool.tryReserve(bytes)) {
      this.#buffer(records, placed, call)
    } else {
      // `send` returns while the call waits for space: its records must not depend on the caller's buffers.
      records.copyBytes()
      this.#pool.reserve(bytes, this.config.maxBlockMs).then(
        () => {
          try {
            this.#lifecycle.ensureOpen()
            this.#buffer(records, placed, call)
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

  #topicExists(topic: string): boolean {
    try {
      this.#host.partitionCount(topic)
      return true
    } catch (e) {
      if (isKafkaliteError(e, 'ERR_UNKNOWN_TOPIC_OR_PARTITION')) return false
      throw e
    }
  }

  /**
   * Checks the records against their topics (partition range, size limits) and makes the fixed
   * partition choices, stored in `records.partitions` (NO_PARTITION: chosen when buffered).
   */
  #place(records: CheckedRecords): PlacedGroup[] {
    return records.groups.map(({ topic, start, end }) => {
      const numPartitions = this.#host.partitionCount(topic)
      const maxBatchBytes = Math.min(this.config.maxRequestSize, this.#host.topicConfig(topic).maxMessageBytes)
      const partitions = records.partitions
      for (let i = start; i < end; i++) {
        const explicit = partitions[i]!
        if (explicit >= numPartitions) {
          throw new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', `Partition ${explicit} of topic ${topic} does not exist (it has ${numPartitions})`, {
            topic,
            partition: explicit,
          })
        }
        this.#checkSize(records, i, maxBatchBytes, topic, i - start)
        if (explicit === NO_PARTITION) partitions[i] = this.#partitioner.fixedPartition(topic, records.keys[i]!, records.values[i]!, numPartitions) ?? NO_PARTITION
      }
      return { topic, start, end, maxBatchBytes }
    })
  }

  /** Kafka's `ensureValidRecordSize`, on the uncompressed size: one record alone must fit every limit. */
  #checkSize(records: CheckedRecords, i: number, maxBatchBytes: number, topic: string, index: number): void {
    const maxBytes = records.maxBytes[i]!
    // The record's upper bound fits both limits (the common case): so does its exact size.
    if (RECORD_BATCH_OVERHEAD + maxBytes <= maxBatchBytes && maxBytes <= this.config.bufferMemory) return
    const alone = RECORD_BATCH_OVERHEAD + recordSizeInBatch(records.fieldsBytes[i]!, 0, 0)
    if (alone > maxBatchBytes) {
      const limitName = maxBatchBytes === this.config.maxRequestSize ? 'the producer\'s maxRequestSize' : 'the topic\'s maxMessageBytes'
      throw new RecordTooLargeError(`Record ${index} for ${topic} makes a ${alone}-byte batch, over ${limitName} (${maxBatchBytes})`, {
        topic,
        index,
        size: alone,
        limit: maxBatchBytes,
      })
    }
    if (maxBytes > this.config.bufferMemory) {
      throw new RecordTooLargeError(`Record ${index} for ${topic} takes ${maxBytes} bytes, more than bufferMemory (${this.config.bufferMemory})`, {
        topic,
        index,
        size: maxBytes,
        bufferMemory: this.config.bufferMemory,
      })
    }
  }

  /**
   * Writes the placed records into their partitions' batches (their buffer space is reserved), then
   * appends what is ready. Partition counts are read first, so a topic deleted while the call waited for
   * memory fails the call before anything is buffered.
   */
  #buffer(records: CheckedRecords, placed: readonly PlacedGroup[], call: SendCall): void {
    const counts = placed.map((g) => this.#host.partitionCount(g.topic))
    const now: TimestampMs = this.#host.clock.now()
    const touched = new Set<PartitionQueue>()
    const chosen = this.config.acks === 0 ? new Int32Array(records.count) : undefined
    let remainingBytes = records.totalMaxBytes
    for (let g = 0; g < placed.length; g++) {
      const { topic, start, end, maxBatchBytes } = placed[g]!
      let queue: PartitionQueue | undefined
      for (let i = start; i < end; i++) {
        const fixed = records.partitions[i]!
        const partition = fixed === NO_PARTITION ? this.#stickyOrNext(topic, records, i, maxBatchBytes, counts[g]!, touched) : fixed
        // Consecutive records usually go to one partition: the queue is looked up when it changes.
        if (queue === undefined || queue.partition !== partition) {
          queue = this.#accumulator.queue(topic, partition)
          touched.add(queue)
        }
        const full = this.#accumulator.append(queue, records, i, call, maxBatchBytes, now, remainingBytes)
        remainingBytes -= records.maxBytes[i]!
        if (full && fixed === NO_PARTITION) this.#partitioner.onBatchFull(topic, partition)
        if (chosen !== undefined) chosen[i] = partition
      }
    }
    // acks 0: the records are accepted; their offsets are not waited for (Kafka reports -1).
    if (chosen !== undefined) call.completeAll(unknownOffsets(records, chosen))
    for (const q of touched) {
      if (this.config.lingerMs === 0) this.#accumulator.close(q)
      this.#sender.drain(q)
    }
  }

  /**
   * The partition of a record the partitioner places statefully. A sticky partition whose batch cannot
   * take the record is full: the batch is closed and another partition chosen.
   */
  #stickyOrNext(topic: string, records: CheckedRecords, i: number, maxBatchBytes: number, numPartitions: number, touched: Set<PartitionQueue>): number {
    const partition = this.#partitioner.next(topic, numPartitions)
    if (!this.#partitioner.sticky || this.#accumulator.fits(topic, partition, records, i, maxBatchBytes)) return partition
    const full = this.#accumulator.queue(topic, partition)
    this.#accumulator.close(full)
    touched.add(full)
    this.#partitioner.onBatchFull(topic, partition)
    return this.#partitioner.next(topic, numPartitions)
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

/** acks 0's results: partitions known, offsets not (-1). */
function unknownOffsets(records: CheckedRecords, partitions: Int32Array): RecordMetadata[] {
  const results = new Array<RecordMetadata>(records.count)
  for (const { topic, start, end } of records.groups) {
    for (let i = start; i < end; i++) results[i] = { topic, partition: partitions[i]!, offset: -1, timestamp: records.timestamps[i]! }
  }
  return results
}

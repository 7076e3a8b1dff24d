/**
 * `consumer.run({ eachMessage | eachBatch })`: a consume loop in KafkaJS's style (its `Runner`), over
 * the consumer's own polls.
 *
 * - `eachMessage({ topic, partition, message, heartbeat, pause })` is awaited for each record in turn;
 *   the partition's position moves past a record once its handler has resolved.
 * - `eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause })` is awaited once per
 *   partition per poll. `resolveOffset(offset)` moves the position past `offset`; with
 *   `eachBatchAutoResolve` (default true) the whole batch is resolved when the handler resolves. Records
 *   left unresolved are fetched again by the next poll (KafkaJS fetches from the resolved offset too).
 * - `pause()` in a payload pauses that partition and returns a function that resumes it; the records of
 *   the partition not yet handed to `eachMessage` come again after the resume.
 *
 * Differences from KafkaJS, on purpose:
 * - `run()` resolves when the loop ends (`stop()` or `close()`), and rejects with a handler's error
 *   instead of retrying it behind the application's back. The failed record (eachMessage) or the first
 *   unresolved one (eachBatch) and everything after it are fetched again by the next poll or run, so an
 *   error never skips records. Call `run()` again to go on.
 * - Offsets are numbers, not strings.
 *
 * Concurrency: one loop per consumer; a handler runs alone (no partitionsConsumedConcurrently). The
 * loop polls only between batches, which is where the group layer's rebalance work happens. Awaiting
 * `stop()` inside a handler would wait for that handler: call it without awaiting there.
 */
import { describeValue, InvalidArgumentError, KafkaliteError } from '../errors/index'
import type { Offset } from '../util/types'
import { giveBack, isCurrent, markDelivered, mayDeliver, type ChunkSource, type FetchedChunk } from './delivery'
import type { ConsumerLifecycle } from './lifecycle'
import type { ConsumerRecord, TopicPartition } from './types'

export interface EachMessagePayload {
  topic: string
  partition: number
  message: ConsumerRecord
  heartbeat(): Promise<void>
  /** Pauses this partition; returns a function that resumes it. */
  pause(): () => void
}

/** One partition's records from one poll. */
export interface Batch {
  topic: string
  partition: number
  /** The partition's high watermark when the records were taken. */
  highWatermark: Offset
  messages: ConsumerRecord[]
  isEmpty(): boolean
  firstOffset(): Offset | null
  lastOffset(): Offset
  /** Records after this batch up to the high watermark (KafkaJS: highWatermark - 1 - lastOffset). */
  offsetLag(): number
  /** Records from the first of this batch up to the high watermark (highWatermark - 1 - firstOffset). */
  offsetLagLow(): number
}

export interface EachBatchPayload {
  batch: Batch
  /** Marks `offset` (and every record before it in the batch) processed: the position moves past it. */
  resolveOffset(offset: Offset): void
  heartbeat(): Promise<void>
  /** False once stop() or close() was called: finish the record in hand and return. */
  isRunning(): boolean
  /** True when the partition was revoked, sought or reset since the batch was taken: stop processing it. */
  isStale(): boolean
  pause(): () => void
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void
  /** eachBatch only: resolve the whole batch when the handler resolves (default true). */
  eachBatchAutoResolve?: boolean
}

/** What the loop needs besides the chunk source: pausing and resuming partitions. */
export interface RunControl {
  pause(partitions: TopicPartition[]): void
  resume(partitions: TopicPartition[]): void
  /** Ends a waiting poll at once. */
  wakeup(): void
}

type Handlers =
  | { eachMessage: NonNullable<RunOptions['eachMessage']>; eachBatch?: undefined; autoResolve: boolean }
  | { eachBatch: NonNullable<RunOptions['eachBatch']>; eachMessage?: undefined; autoResolve: boolean }

const RUN_OPTION_KEYS = new Set(['eachMessage', 'eachBatch', 'eachBatchAutoResolve'])

export class RunLoop {
  private loop: Promise<void> | undefined = undefined
  private readonly heartbeat: () => Promise<void>

  constructor(
    private readonly source: ChunkSource,
    private readonly control: RunControl,
    private readonly lifecycle: ConsumerLifecycle,
  ) {
    this.heartbeat = () => this.source.heartbeat()
  }

  /** Starts the loop; resolves when it ends. ERR_INVALID_STATE if a loop is already running. */
  async run(options: RunOptions): Promise<void> {
    this.lifecycle.ensureActive()
    const handlers = checkRunOptions(options)
    if (this.lifecycle.state !== 'ready' || this.loop !== undefined) {
      throw new KafkaliteError('ERR_INVALID_STATE', 'run() is already active on this consumer; stop() it first', { state: this.lifecycle.state })
    }
    this.lifecycle.transition('running')
    const loop = this.consume(handlers).finally(() => {
      this.loop = undefined
      if (this.lifecycle.state === 'running' || this.lifecycle.state === 'stopping') this.lifecycle.transition('ready')
    })
    this.loop = loop
    return loop
  }

  /** Asks the loop to end after the record or batch in hand; resolves once it has ended. */
  async stop(): Promise<void> {
    const loop = this.loop
    if (loop === undefined) return
    if (this.lifecycle.state === 'running') {
      this.lifecycle.transition('stopping')
      this.control.wakeup()
    }
    await loop.catch(() => undefined)
  }

  private get keepGoing(): boolean {
    return this.lifecycle.state === 'running'
  }

  /** The loop; the source keeps its poll deadline timer from one poll to the next until the loop ends. */
  private async consume(handlers: Handlers): Promise<void> {
    const options = { maxRecords: this.source.maxPollRecords, timeoutMs: this.source.pollTimeoutMs }
    try {
      while (this.keepGoing) {
        const chunks = await this.source.fetchChunks(options)
        for (let c = 0; c < chunks.length; c++) {
          const chunk = chunks[c]!
          try {
            if (!this.keepGoing) giveBack(chunk)
            else if (handlers.eachMessage === undefined) await this.eachBatch(chunk, handlers.eachBatch, handlers.autoResolve)
            else {
              // eachMessage, inline rather than an async method per chunk: at the tail of a log a poll
              // returns a record or two, and each async call is a promise and a suspended frame more.
              const { topic, partition } = chunk.state
              const records = chunk.records
              const pause = this.pauser(chunk)
              for (let i = 0; i < records.length; i++) {
                if (!this.keepGoing) {
                  giveBack(chunk)
                  break
                }
                if (!mayDeliver(chunk)) break
                await handlers.eachMessage({ topic, partition, message: records[i]!, heartbeat: this.heartbeat, pause })
                markDelivered(chunk, i)
              }
            }
          } catch (e) {
            for (let rest = c; rest < chunks.length; rest++) giveBack(chunks[rest]!)
            throw e
          }
        }
      }
    } finally {
      this.source.idle()
    }
  }

  private async eachBatch(chunk: FetchedChunk, handler: NonNullable<RunOptions['eachBatch']>, autoResolve: boolean): Promise<void> {
    if (!mayDeliver(chunk)) return
    const records = chunk.records
    const first = records[0]!.offset
    const last = records[records.length - 1]!.offset
    const resolveOffset = (offset: Offset): void => {
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < first || offset > last) {
        throw new InvalidArgumentError(`resolveOffset expects an offset of this batch, in [${first}, ${last}]; got ${describeValue(offset)}`, {
          topic: chunk.state.topic,
          partition: chunk.state.partition,
        })
      }
      if (offset === last) markDelivered(chunk, records.length - 1)
      else if (isCurrent(chunk)) chunk.state.delivered(offset + 1)
    }
    await handler({
      batch: makeBatch(chunk),
      resolveOffset,
      heartbeat: this.heartbeat,
      isRunning: () => this.keepGoing,
      isStale: () => !isCurrent(chunk),
      pause: this.pauser(chunk),
    })
    if (autoResolve) markDelivered(chunk, records.length - 1)
    // Whatever was left unresolved is fetched again.
    if (isCurrent(chunk) && chunk.state.position !== chunk.nextOffset) giveBack(chunk)
  }

  /** The payloads' `pause` for the chunk's partition: made once per assigned partition, not per poll. */
  private pauser(chunk: FetchedChunk): () => () => void {
    const state = chunk.state
    return (state.runPause ??= this.makePauser({ topic: state.topic, partition: state.partition }))
  }

  private makePauser(tp: TopicPartition): () => () => void {
    const tps = [tp]
    return () => {
      this.control.pause(tps)
      return () => this.control.resume(tps)
    }
  }
}

function makeBatch(chunk: FetchedChunk): Batch {
  const messages = chunk.records
  const highWatermark = chunk.highWatermark
  return {
    topic: chunk.state.topic,
    partition: chunk.state.partition,
    highWatermark,
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages[messages.length - 1]?.offset ?? highWatermark - 1,
    offsetLag: () => Math.max(0, highWatermark - 1 - (messages[messages.length - 1]?.offset ?? highWatermark - 1)),
    offsetLagLow: () => Math.max(0, highWatermark - 1 - (messages[0]?.offset ?? highWatermark - 1)),
  }
}

function checkRunOptions(options: unknown): Handlers {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`run expects { eachMessage } or { eachBatch }, got ${describeValue(options)}`)
  const o = options as RunOptions
  const unknown = Object.keys(o).filter((k) => !RUN_OPTION_KEYS.has(k))
  if (unknown.length > 0) throw new InvalidArgumentError(`Unknown run option ${unknown.join(', ')}; known: ${[...RUN_OPTION_KEYS].join(', ')}`)
  const hasMessage = o.eachMessage !== undefined
  const hasBatch = o.eachBatch !== undefined
  if (hasMessage === hasBatch) throw new InvalidArgumentError('run expects exactly one of eachMessage and eachBatch')
  if (hasMessage && typeof o.eachMessage !== 'function') throw new InvalidArgumentError('eachMessage must be a function')
  if (hasBatch && typeof o.eachBatch !== 'function') throw new InvalidArgumentError('eachBatch must be a function')
  if (o.eachBatchAutoResolve !== undefined && typeof o.eachBatchAutoResolve !== 'boolean') {
    throw new InvalidArgumentError(`eachBatchAutoResolve must be a boolean, got ${describeValue(o.eachBatchAutoResolve)}`)
  }
  const autoResolve = o.eachBatchAutoResolve ?? true
  return hasMessage ? { eachMessage: o.eachMessage!, autoResolve } : { eachBatch: o.eachBatch!, autoResolve }
}

/**
 * The consumer: reads assigned partitions in offset order, from a position per partition. Used alone
 * with a manual assignment (`assign`), and by the group layer (src/group) as the machinery under each
 * group member. Kafka's `KafkaConsumer` + `Fetcher` + `SubscriptionState`, for one process.
 *
 * ## The seam for the group layer
 *
 * A group member owns one Consumer, created with a coordinator:
 *
 *   const consumer = new Consumer(engine, config, { coordinator })
 *
 *   interface ConsumerCoordinator {
 *     beforeFetch(): Promise<void> | void   // at the start of every poll round, before records are taken
 *     heartbeat?(): Promise<void> | void    // the run loop's heartbeat() (session liveness)
 *     onClose?(): Promise<void> | void      // inside close(), before the assignment is dropped
 *   }
 *
 * - Rebalances happen on the polling path, as in Kafka (`ConsumerCoordinator.poll` inside `poll`):
 *   `beforeFetch` runs at the start of each poll round, never while the application is in the middle of
 *   a record or batch of the run loop. That is where the member calls its revoked listeners (positions are
 *   still readable: `position()`, `positions()`), commits, then calls `removePartitions(...)`, and applies
 *   a new assignment with `addPartitions(...)`. To get a waiting poll to run `beforeFetch` again (a
 *   rebalance began while the member is idle), call `nudge()`: the poll re-runs the round and goes on
 *   waiting; it does not return early because of it.
 * - `addPartitions([{ topic, partition, offset? }])` adds partitions, keeping those already assigned
 *   (cooperative); `offset` is the committed offset to start from (undefined/null: none, so
 *   `autoOffsetReset` decides). A committed offset that turns out to be out of range is reported as a
 *   committed offset (ERR_OFFSET_OUT_OF_RANGE context `committedOffset`; the reset event's
 *   `fromCommitted`). `removePartitions([...])` drops partitions and returns their final positions
 *   (eager: remove all, then add). `assign([...])` replaces the whole assignment (manual use).
 * - Liveness for `maxPollIntervalMs`: `lastPollMs` (clock time of the last poll's start or end) and
 *   `pollInProgress` (a poll is waiting, so the member is live). In the run loop a poll happens between
 *   batches only; a batch that outlasts the interval leaves `lastPollMs` behind, as in Kafka.
 * - Resets: `on('offsetReset', listener)` for each reset (the group counts them per partition for
 *   `describe()`), and `offsetResetTotals()` for this consumer's totals.
 * - Positions: `positions()` lists assigned partitions with their consumer position (what to commit);
 *   positions move only as records are delivered (see delivery.ts), so committing them is at-least-once.
 *
 * ## Config (src/config/consumer-config.ts)
 * Used here: autoOffsetReset, maxPollRecords (poll's default maxRecords), fetchMaxBytes and
 * maxPartitionFetchBytes (fetcher.ts), fetchMaxWaitMs (poll's default timeoutMs), clientId (messages).
 * maxPollIntervalMs, sessionTimeoutMs, heartbeatIntervalMs, groupId, groupInstanceId, enableAutoCommit,
 * autoCommitIntervalMs and partitionAssignmentStrategy are the group layer's. Two have no effect, by
 * design or for now: fetchMinBytes (in process there is no request to fill: a poll returns as soon as
 * any record is visible), and isolationLevel (kafkalite has no transactional producer, so a log holds no
 * aborted records or open transactions and read_committed reads what read_uncommitted reads; control
 * batches are skipped under both).
 *
 * ## Invariants
 * - `assigned` (assignment.ts) holds each assigned partition once; a partition leaving it is marked
 *   unassigned, which makes its undelivered records stale. Each poll starts at the partition after the
 *   last one that returned records in the previous poll, so a busy partition cannot starve the others.
 * - At most one poll at a time (ERR_INVALID_STATE for a second, Kafka's ConcurrentModificationException).
 * - A poll leaves no timer behind when it returns to the application (`poll()`, the iterator); the run
 *   loop, which polls again as soon as it has handled a poll's records, keeps its deadline timer from one
 *   poll to the next until the loop ends (wake-signal.ts). Each assigned partition has one high-watermark
 *   listener from the first wait on it until it leaves the assignment (PartitionState.watch), so waiting
 *   costs no subscription per wait; the listener holds the consumer no longer than the engine's close
 *   hook already does, and close drops it with the assignment.
 *
 * Concurrency: every method but the polls, `run`, `stop` and `close` is synchronous. A poll awaits only in
 * `beforeFetch` and while waiting; records are taken and positions moved in synchronous steps, so a seek
 * or assignment change made during a wait applies to the next round.
 */
import type { AutoOffsetReset, ConsumerConfig, ConsumerConfigInput } from '../config/consumer-config'
import { resolveConsumerConfig } from '../config/consumer-config'
import { describeValue, InvalidArgumentError, KafkaliteError } from '../errors/index'
import type { Clock } from '../io/clock'
import type { PartitionLog } from '../storage/partition-log'
import type { Offset } from '../util/types'
import { checkOffset, checkPollOptions, checkTimestamp, checkTopicPartition, checkTopicPartitionList } from './arguments'
import { deliverAll, type ChunkSource, type FetchedChunk } from './delivery'
import { RecordIterator } from './iterator'
import { ConsumerLifecycle, type ConsumerState } from './lifecycle'
import { startingOffset } from './offset-reset'
import { Assignment } from './assignment'
import { partitionKey, type PartitionState } from './partition-state'
import { takeRound, type RoundResult } from './round'
import { RunLoop, type RunOptions } from './run-loop'
import type {
  ConsumerRecord,
  OffsetForTimeResult,
  OffsetResetEvent,
  OffsetResetTotals,
  PollOptions,
  TopicPartition,
  TopicPartitionOffset,
} from './types'
import { WakeSignal } from './wake-signal'

/** What the consumer needs from the engine (src/engine's Engine provides it; tests may fake it). */
export interface ConsumerEngine {
  readonly clock: Clock
  log(topic: string, partition: number): PartitionLog
  onClose(hook: () => Promise<void> | void): () => void
  ensureOpen(): void
}

/** Installed by the group layer; see the module comment. */
export interface ConsumerCoordinator {
  beforeFetch(): Promise<void> | void
  heartbeat?(): Promise<void> | void
  onClose?(): Promise<void> | void
}

export interface ConsumerHooks {
  coordinator?: ConsumerCoordinator
}

/** A partition to add, with the committed offset to start from (none: `autoOffsetReset` decides). */
export interface PartitionStart extends TopicPartition {
  offset?: Offset | null
}

export type ConsumerEvents = {
  offsetReset: (event: OffsetResetEvent) => void
}

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly config: Readonly<ConsumerConfig>
  private readonly engine: ConsumerEngine
  private readonly coordinator: ConsumerCoordinator | undefined
  private readonly lifecycle: ConsumerLifecycle
  private readonly signal = new WakeSignal()
  private readonly wakeOnData = (): void => this.signal.notify('changed')
  private readonly logOfState = (state: PartitionState): PartitionLog => this.logOf(state)
  /** Reused by every round; its `chunks` array is replaced only when a round hands it out. */
  private readonly round: RoundResult = { chunks: [], resets: [] }
  private readonly assigned = new Assignment()
  private polling = false
  private wakeupRequested = false
  private _lastPollMs: number
  private inflight: Promise<unknown> | undefined = undefined
  private inBeforeFetch = false
  private readonly resetTotals = new Map<string, OffsetResetTotals>()
  private readonly resetListeners = new Set<ConsumerEvents['offsetReset']>()
  private readonly runLoop: RunLoop
  private readonly unregisterCloseHook: () => void
  private closing: Promise<void> | undefined

  constructor(engine: ConsumerEngine, config: ConsumerConfigInput = {}, hooks: ConsumerHooks = {}) {
    this.config = resolveConsumerConfig(config)
    engine.ensureOpen()
    this.engine = engine
    this.coordinator = hooks.coordinator
    this.lifecycle = new ConsumerLifecycle(this.config.clientId === '' ? 'Consumer' : `Consumer ${this.config.clientId}`)
    this._lastPollMs = engine.clock.now()
    this.runLoop = new RunLoop(
      this.chunkSource(true),
      { pause: (tps) => this.pause(tps), resume: (tps) => this.resume(tps), wakeup: () => this.wakeup() },
      this.lifecycle,
    )
    this.unregisterCloseHook = engine.onClose(() => this.close())
  }

  get state(): ConsumerState {
    return this.lifecycle.state
  }

  // ---------------------------------------------------------------------------------------------------
  // Assignment

  /** Replaces the assignment (manual assignment, no group). Kept partitions keep their positions. */
  assign(partitions: readonly TopicPartition[]): void {
    this.lifecycle.ensureActive()
    const list = this.checkExisting(checkTopicPartitionList(partitions, 'assign'))
    const keep = new Set(list.map((tp) => partitionKey(tp.topic, tp.partition)))
    this.assigned.remove(this.assigned.states.filter((s) => !keep.has(s.key)))
    this.assigned.add(list.map((tp) => ({ ...tp, offset: null })))
    this.signal.notify('changed')
  }

  /** The assigned partitions, in the order they were assigned. */
  assignment(): TopicPartition[] {
    this.lifecycle.ensureNotClosed()
    return this.assigned.states.map((s) => ({ topic: s.topic, partition: s.partition }))
  }

  /**
   * Group seam: adds partitions, starting each at its committed `offset` when given. Partitions already
   * assigned keep their positions. Validates everything before changing anything.
   */
  addPartitions(partitions: readonly PartitionStart[]): void {
    this.lifecycle.ensureActive()
    if (!Array.isArray(partitions)) checkTopicPartitionList(partitions, 'addPartitions')
    const starts = partitions.map((p) => {
      const tp = checkTopicPartition(p, 'addPartitions')
      const offset = p.offset === undefined || p.offset === null ? null : checkOffset(p.offset, 'offset', tp)
      return { ...tp, offset }
    })
    this.checkExisting(starts)
    this.assigned.add(starts)
    this.signal.notify('changed')
  }

  /** Group seam: removes partitions (unassigned ones are ignored) and returns their final positions. */
  removePartitions(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    this.lifecycle.ensureNotClosed()
    const states = checkTopicPartitionList(partitions, 'removePartitions')
      .map((tp) => this.assigned.get(tp))
      .filter((s): s is PartitionState => s !== undefined)
    this.assigned.remove(states)
    this.signal.notify('changed')
    return states.filter((s) => s.position !== undefined).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position! }))
  }

  // ---------------------------------------------------------------------------------------------------
  // Positions

  /**
   * The offset of the next record the application will get from `tp`. A partition without a position
   * gets its starting position now (`autoOffsetReset`; ERR_OFFSET_OUT_OF_RANGE under "none").
   */
  position(tp: TopicPartition): Offset {
    this.lifecycle.ensureNotClosed()
    const state = this.assigned.require(checkTopicPartition(tp, 'position'), 'position')
    if (state.position === undefined) state.setPosition(startingOffset(state, this.logOf(state), this.config.autoOffsetReset), 'reset')
    return state.position!
  }

  /** Group seam: every assigned partition that has a position, with it (what a commit of all would store). */
  positions(): TopicPartitionOffset[] {
    this.lifecycle.ensureNotClosed()
    return this.assigned.states.filter((s) => s.position !== undefined).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position! }))
  }

  /**
   * Sets the position of an assigned partition; the next poll reads from `offset`. An offset outside the
   * log is not refused here: the poll that reaches it applies `autoOffsetReset`, as Kafka does.
   */
  seek(tp: TopicPartition, offset: Offset): void {
    this.lifecycle.ensureActive()
    const checked = checkTopicPartition(tp, 'seek')
    const at = checkOffset(offset, 'seek offset', checked)
    this.assigned.require(checked, 'seek').setPosition(at, 'seek')
    this.signal.notify('changed')
  }

  /** Seeks to the log start offset of each given partition (default: all assigned). */
  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    this.seekEach(partitions, 'seekToBeginning', (log) => log.logStartOffset)
  }

  /** Seeks to the high watermark (the end a consumer can read to) of each given partition (default: all). */
  seekToEnd(partitions?: readonly TopicPartition[]): void {
    this.seekEach(partitions, 'seekToEnd', (log) => log.highWatermark)
  }

  /** For each partition, the earliest offset whose timestamp is ≥ `timestamp` (null when all are older). */
  offsetsForTimes(query: readonly (TopicPartition & { timestamp: number })[]): OffsetForTimeResult[] {
    this.lifecycle.ensureActive()
    if (!Array.isArray(query)) throw new InvalidArgumentError(`offsetsForTimes expects an array of { topic, partition, timestamp }, got ${describeValue(query)}`)
    const checked = query.map((q) => {
      const tp = checkTopicPartition(q, 'offsetsForTimes')
      return { ...tp, timestamp: checkTimestamp(q.timestamp, tp) }
    })
    const logs = checked.map((q) => this.engine.log(q.topic, q.partition))
    return checked.map((q, i) => {
      const found = logs[i]!.offsetForTimestamp(q.timestamp)
      return { topic: q.topic, partition: q.partition, offset: found?.offset ?? null, timestamp: found?.timestamp ?? null }
    })
  }

  /** The log start offset of each partition (assigned or not). */
  beginningOffsets(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return this.offsetsOf(partitions, 'beginningOffsets', (log) => log.logStartOffset)
  }

  /** The high watermark of each partition (assigned or not): the offset after the last readable record. */
  endOffsets(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return this.offsetsOf(partitions, 'endOffsets', (log) => log.highWatermark)
  }

  // ---------------------------------------------------------------------------------------------------
  // Flow control

  /** Stops fetching from the partitions until `resume`; their positions and buffered records are kept. */
  pause(partitions: readonly TopicPartition[]): void {
    this.lifecycle.ensureActive()
    for (const state of this.requireAllAssigned(partitions, 'pause')) state.paused = true
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.lifecycle.ensureActive()
    for (const state of this.requireAllAssigned(partitions, 'resume')) state.paused = false
    this.signal.notify('changed')
  }

  paused(): TopicPartition[] {
    this.lifecycle.ensureNotClosed()
    return this.assigned.states.filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }))
  }

  /** Makes a poll that is waiting return at once (with no records). No effect when no poll is in progress. */
  wakeup(): void {
    this.lifecycle.ensureNotClosed()
    if (!this.polling) return
    this.wakeupRequested = true
    this.signal.notify('wakeup')
  }

  /** Group seam: a waiting poll runs `beforeFetch` again and goes on waiting. */
  nudge(): void {
    this.lifecycle.ensureNotClosed()
    this.signal.notify('changed')
  }

  /** Group seam: the clock time at which the last poll started or ended. */
  get lastPollMs(): number {
    return this._lastPollMs
  }

  /** Group seam: a poll is in progress (possibly waiting for data), so the member is polling. */
  get pollInProgress(): boolean {
    return this.polling
  }

  // ---------------------------------------------------------------------------------------------------
  // Consuming

  /**
   * Returns up to `maxRecords` records (default `maxPollRecords`) from the assigned, unpaused partitions,
   * in offset order per partition, and moves their positions past them. With nothing available it waits
   * up to `timeoutMs` (default `fetchMaxWaitMs`) for new data, and returns as soon as some is visible.
   * Resolves with [] on timeout, `wakeup()` or `close()`.
   */
  async poll(options?: PollOptions): Promise<ConsumerRecord[]> {
    this.lifecycle.ensureNotRunning('poll')
    // Positions moved when the records were taken (takeRound); this flattens, leaving out chunks made stale since.
    return deliverAll(await this.fetchChunks(options, true))
  }

  /** Consumes records one at a time, forever, until `close()` (or a `break`, which gives back the rest). */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    this.lifecycle.ensureNotRunning('Iterating the consumer')
    return new RecordIterator(this.chunkSource(false), this.lifecycle)
  }

  /**
   * Runs a consume loop in KafkaJS's style: `eachMessage` per record, or `eachBatch` per partition per
   * poll. Resolves when `stop()` or `close()` ends it; rejects with a handler's error (the failed record
   * and those after it are fetched again by the next poll or run). See run-loop.ts.
   */
  run(options: RunOptions): Promise<void> {
    return this.runLoop.run(options)
  }

  /** Ends the run loop after the record or batch in hand; resolves when it has ended. */
  async stop(): Promise<void> {
    this.lifecycle.ensureNotClosed()
    await this.runLoop.stop()
  }

  // ---------------------------------------------------------------------------------------------------
  // Events and reports

  /** Subscribes to `'offsetReset'`; returns the function that unsubscribes. */
  on<E extends keyof ConsumerEvents>(event: E, listener: ConsumerEvents[E]): () => void {
    this.lifecycle.ensureNotClosed()
    if (event !== 'offsetReset') throw new InvalidArgumentError(`Unknown consumer event ${describeValue(event)}; known: "offsetReset"`)
    if (typeof listener !== 'function') throw new InvalidArgumentError(`An offsetReset listener must be a function, got ${describeValue(listener)}`)
    this.resetListeners.add(listener)
    return () => this.resetListeners.delete(listener)
  }

  /** Resets per partition over this consumer's life, including partitions no longer assigned. */
  offsetResetTotals(): OffsetResetTotals[] {
    this.lifecycle.ensureNotClosed()
    return [...this.resetTotals.values()].map((t) => ({ ...t }))
  }

  // ---------------------------------------------------------------------------------------------------
  // Close

  /**
   * Closes the consumer (idempotent: every call returns the same promise). A waiting poll returns [], the
   * run loop ends after the record in hand, the coordinator's `onClose` runs (the group member leaves and
   * commits), then the assignment is dropped. Afterwards every method throws ERR_CLOSED.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  private async shutdown(): Promise<void> {
    this.lifecycle.transition('closing')
    this.signal.notify('closed')
    this.signal.release()
    let failure: unknown
    // A poll in progress returns at once; wait for it, unless close() was called from inside it (from the
    // coordinator's beforeFetch), which would wait for itself. A run-loop handler in progress is not
    // waited for, for the same reason: positions move only after it resolves, and no longer apply once
    // the partitions are dropped below.
    if (this.inflight !== undefined && !this.inBeforeFetch) await this.inflight.catch(() => undefined)
    try {
      await this.coordinator?.onClose?.()
    } catch (e) {
      failure = e
    }
    this.unregisterCloseHook()
    this.assigned.remove(this.assigned.states)
    this.lifecycle.transition('closed')
    if (failure !== undefined) throw failure
  }

  // ---------------------------------------------------------------------------------------------------
  // Polling internals

  /**
   * One poll: rounds of (coordinator, take records) until some are taken, the timeout passes, or the wait
   * is ended by wakeup/close. With `deliver`, positions move past the records at once (`poll()`);
   * otherwise the iterator or run loop moves them record by record.
   */
  private fetchChunks(options: PollOptions | undefined, deliver: boolean, keepTimer = false): Promise<FetchedChunk[]> {
    try {
      this.lifecycle.ensureActive()
      const limits = checkPollOptions(options, { maxRecords: this.config.maxPollRecords, timeoutMs: this.config.fetchMaxWaitMs })
      if (this.polling) throw new KafkaliteError('ERR_INVALID_STATE', 'Another poll is in progress on this consumer; a consumer polls one at a time')
      this.polling = true
      this.wakeupRequested = false
      const poll = this.pollRounds(limits.maxRecords, limits.timeoutMs, deliver, keepTimer)
      this.inflight = poll
      return poll
    } catch (e) {
      return Promise.reject(e)
    }
  }

  private async pollRounds(maxRecords: number, timeoutMs: number, deliver: boolean, keepTimer: boolean): Promise<FetchedChunk[]> {
    const clock = this.engine.clock
    this._lastPollMs = clock.now()
    const deadline = this._lastPollMs + timeoutMs
    try {
      for (;;) {
        if (this.coordinator !== undefined) await this.beforeFetch(this.coordinator)
        if (!this.lifecycle.active || this.wakeupRequested) return []
        const chunks = this.takeRound(maxRecords, deliver)
        if (chunks.length > 0) return chunks
        if (deadline - clock.now() <= 0) return []
        this.watchAssigned()
        const reason = await this.signal.wait(clock, deadline)
        if (reason === 'wakeup' || reason === 'closed') return []
      }
    } finally {
      this.polling = false
      this.inflight = undefined
      this._lastPollMs = clock.now()
      if (!keepTimer) this.signal.release()
    }
  }

  private async beforeFetch(coordinator: ConsumerCoordinator): Promise<void> {
    this.inBeforeFetch = true
    try {
      await coordinator.beforeFetch()
    } finally {
      this.inBeforeFetch = false
    }
  }

  /** One synchronous round (round.ts), then its resets are reported and, for `poll()`, records delivered. */
  private takeRound(maxRecords: number, deliver: boolean): FetchedChunk[] {
    const round = this.round
    // A round that failed after taking records (a reset listener threw) leaves them here; they are stale.
    if (round.chunks.length > 0) round.chunks = []
    try {
      takeRound(this.assigned, this.logOfState, this.config, maxRecords, round)
    } finally {
      if (round.resets.length > 0) this.reportResets(round.resets)
    }
    const chunks = round.chunks
    if (chunks.length === 0) return chunks
    round.chunks = []
    if (deliver) deliverAll(chunks)
    return chunks
  }

  private reportResets(resets: OffsetResetEvent[]): void {
    const events = resets.splice(0)
    for (const event of events) this.countReset(event)
    // Listeners run before delivery: if one throws, the records taken are fetched again by the next poll.
    for (const event of events) this.emitReset(event)
  }

  /** Every unpaused assigned partition's log wakes a waiting poll (subscribed once per assignment). */
  private watchAssigned(): void {
    const states = this.assigned.states
    for (let i = 0; i < states.length; i++) {
      const state = states[i]!
      if (state.paused) continue
      let log: PartitionLog
      try {
        log = this.logOf(state)
      } catch {
        continue // A partition whose topic is gone: the next round reports it.
      }
      state.watch(log, this.wakeOnData)
    }
  }

  private countReset(event: OffsetResetEvent): void {
    const key = partitionKey(event.topic, event.partition)
    const totals = this.resetTotals.get(key) ?? { topic: event.topic, partition: event.partition, resets: 0, recordsSkipped: 0 }
    totals.resets++
    totals.recordsSkipped += event.recordsSkipped
    this.resetTotals.set(key, totals)
  }

  private emitReset(event: OffsetResetEvent): void {
    for (const listener of [...this.resetListeners]) listener(event)
  }

  // ---------------------------------------------------------------------------------------------------
  // Assignment internals

  /** Checks that each partition exists (the engine's ERR_UNKNOWN_TOPIC_OR_PARTITION otherwise). */
  private checkExisting<T extends TopicPartition>(list: T[]): T[] {
    for (const tp of list) this.engine.log(tp.topic, tp.partition)
    return list
  }

  private requireAllAssigned(partitions: readonly TopicPartition[], operation: string): PartitionState[] {
    return checkTopicPartitionList(partitions, operation).map((tp) => this.assigned.require(tp, operation))
  }

  private seekEach(partitions: readonly TopicPartition[] | undefined, operation: string, target: (log: PartitionLog) => Offset): void {
    this.lifecycle.ensureActive()
    const states = partitions === undefined ? [...this.assigned.states] : this.requireAllAssigned(partitions, operation)
    const offsets = states.map((s) => target(this.logOf(s)))
    states.forEach((s, i) => s.setPosition(offsets[i]!, 'seek'))
    this.signal.notify('changed')
  }

  private offsetsOf(partitions: readonly TopicPartition[], operation: string, read: (log: PartitionLog) => Offset): TopicPartitionOffset[] {
    this.lifecycle.ensureActive()
    const list = checkTopicPartitionList(partitions, operation)
    const logs = list.map((tp) => this.engine.log(tp.topic, tp.partition))
    return list.map((tp, i) => ({ ...tp, offset: read(logs[i]!) }))
  }

  private logOf(state: PartitionState): PartitionLog {
    return this.engine.log(state.topic, state.partition)
  }

  /**
   * The internal view the iterator and the run loop consume through. With `pollsAgain` (the run loop,
   * which polls again as soon as it has handled a poll's records) a poll keeps its deadline timer for the
   * next one until `idle()`; the iterator's records go to application code that may hold them for long,
   * so its polls release the timer like `poll()` does.
   */
  private chunkSource(pollsAgain: boolean): ChunkSource {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const consumer = this
    return {
      fetchChunks: (options) => consumer.fetchChunks(options, false, pollsAgain),
      get active() {
        return consumer.lifecycle.active
      },
      heartbeat: async () => {
        await consumer.coordinator?.heartbeat?.()
      },
      wakeup: () => {
        // Also while closing (an iterator returned during close): ending a waiting poll is always safe.
        if (!consumer.polling) return
        consumer.wakeupRequested = true
        consumer.signal.notify('wakeup')
      },
      idle: () => {
        if (!consumer.polling) consumer.signal.release()
      },
      get maxPollRecords() {
        return consumer.config.maxPollRecords
      },
      get pollTimeoutMs() {
        return consumer.config.fetchMaxWaitMs
      },
    }
  }
}

export type { AutoOffsetReset }

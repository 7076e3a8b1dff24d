/**
 * One member's side of the group protocol (Kafka's ConsumerCoordinator): it runs on the consumer's
 * polling path (`beforeFetch`), as Kafka runs rebalances inside `poll`, so rebalance listeners and the
 * commits they make never interleave with the application's processing of a record.
 *
 * Each poll round, in order:
 *   1. a fenced member fails the poll (ERR_FENCED_INSTANCE_ID); the poll timer is re-armed;
 *   2. auto-commit, when enabled and due (the positions of records already returned: at-least-once
 *      for work finished before the next poll, at-most-once for work handed off and not yet done);
 *   3. partitions lost to a removal (poll or session timeout, group deleted): the `lost` listener, then
 *      they are dropped (a commit for them would fail: others may own them already);
 *   4. metadata: a pattern that matches another set of topics, a subscribed topic with more partitions,
 *      or a deleted topic starts a rebalance (its partitions are lost);
 *   5. a finished rebalance is applied: revoked partitions first (the `revoked` listener is awaited
 *      while they are still owned, so it can commit), then the new ones are added at their committed
 *      offsets and `assigned` is called. A cooperative member that revoked anything joins again at once
 *      (KIP-429's second round), which hands those partitions to their new owners;
 *   6. a join is sent if one is needed. An eager member first revokes everything; a cooperative one
 *      keeps what it owns and goes on consuming it while the group rebalances.
 *
 * Liveness (maxPollIntervalMs): a timer on the engine clock checks the consumer's `lastPollMs`. A poll in
 * progress counts as polling. A member whose poll started more than maxPollIntervalMs ago gives up its
 * place, as Kafka's heartbeat thread does: a dynamic member leaves (its partitions go to the others at
 * once; the next poll reports them lost and joins again as a new member, which is the rebalance storm
 * of a slow consumer); a static member detaches and keeps its partitions for sessionTimeoutMs, so a poll
 * within that window gets them back without a rebalance.
 *
 * Concurrency: the coordinator's notifications (`rebalanceStarted`, `removed`, `fenced`) only set flags
 * and nudge a waiting poll; all work happens in `beforeFetch`, one poll at a time.
 */
import type { AssignmentStrategy, ConsumerConfig } from '../config/consumer-config'
import type { Consumer } from '../consumer/consumer'
import type { OffsetResetEvent } from '../consumer/types'
import { KafkaliteError } from '../errors/index'
import type { TimerHandle } from '../io/clock'
import { ASSIGNORS } from './assignor'
import type { GroupCoordinator, OffsetToCommit } from './coordinator'
import type { JoinOutcome, MemberHandle, RemovalReason } from './membership'
import { keyOf, sameTopics, sortTopicPartitions, type TopicPartition } from './topic-partition'

/** Rebalance listeners (Kafka's ConsumerRebalanceListener). Each is awaited; an error fails the poll after the rebalance step. */
export interface RebalanceListeners {
  /** Partitions newly assigned (called after every completed rebalance, possibly with none). */
  assigned?(partitions: TopicPartition[]): void | Promise<void>
  /** Partitions about to be taken away; still owned while this runs, so it may commit them. */
  revoked?(partitions: TopicPartition[]): void | Promise<void>
  /** Partitions already owned by others (the member was removed); committing them fails. */
  lost?(partitions: TopicPartition[]): void | Promise<void>
}

export type Subscription = { readonly topics: readonly string[] } | { readonly pattern: RegExp }

type PendingOutcome = JoinOutcome | { readonly type: 'error'; readonly error: unknown }

export class MemberSession implements MemberHandle {
  memberId: string | null = null
  generation = -1
  protocol: AssignmentStrategy | null = null
  private readonly owned = new Map<string, TopicPartition>()
  /** Eager members revoke before joining; what they had is reported for the sticky assignors. */
  private previous: { partitions: TopicPartition[]; generation: number } = { partitions: [], generation: -1 }
  private needsJoin = true
  private joinInFlight = false
  /** Numbers joins; an outcome for an older join (sent before a removal) is dropped. */
  private joinSeq = 0
  private outcome: PendingOutcome | undefined
  private lostReason: RemovalReason | undefined
  private isFenced = false
  private joinedTopics: readonly string[] = []
  private partitionsPerTopic: ReadonlyMap<string, number> = new Map()
  private pollTimer: TimerHandle | undefined
  private nextAutoCommitMs: number
  private consumer!: Consumer
  private closing = false
  readonly rebalanceProtocol: 'eager' | 'cooperative'

  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly groupId: string,
    private readonly config: Readonly<ConsumerConfig>,
    private readonly subscription: Subscription,
    private readonly listeners: RebalanceListeners,
    private readonly options: { leaveGroupOnClose: boolean },
  ) {
    // Kafka: the member is cooperative only if every assignor it supports is.
    this.rebalanceProtocol = config.partitionAssignmentStrategy.every((s) => ASSIGNORS[s].protocol === 'cooperative') ? 'cooperative' : 'eager'
    this.nextAutoCommitMs = coordinator.engine.clock.now() + config.autoCommitIntervalMs
  }

  attach(consumer: Consumer): void {
    this.consumer = consumer
    consumer.on('offsetReset', (event: OffsetResetEvent) => this.coordinator.noteOffsetReset(this.groupId, event))
  }

  get ownedPartitions(): TopicPartition[] {
    return sortTopicPartitions(this.owned.values())
  }

  owns(tp: TopicPartition): boolean {
    return this.owned.has(keyOf(tp))
  }

  get wasFenced(): boolean {
    return this.isFenced
  }

  // ---------------------------------------------------------------------------------------------------
  // MemberHandle: notifications from the coordinator (flags only)

  /**
   * Always sets needsJoin, even with a join in flight: that join's outcome may already have been decided
   * for the generation before this rebalance. (The coordinator does not notify the member whose own join
   * starts a rebalance.)
   */
  rebalanceStarted(): void {
    this.needsJoin = true
    this.nudge()
  }

  removed(reason: RemovalReason): void {
    this.lostReason ??= reason
    this.forgetJoin()
    this.memberId = null
    this.generation = -1
    this.needsJoin = true
    this.nudge()
  }

  fenced(): void {
    this.isFenced = true
    this.nudge()
  }

  /**
   * Wakes a waiting poll. A closing or closed consumer has no poll to wake (and its nudge throws
   * ERR_CLOSED), so news that reaches it then only sets the flags: a notification must never fail the
   * coordinator call of another member that triggered it.
   */
  private nudge(): void {
    if (!this.closing) this.consumer.nudge()
  }

  // ---------------------------------------------------------------------------------------------------
  // The polling path

  async beforeFetch(): Promise<void> {
    this.ensureNotFenced()
    this.armPollTimer()
    this.maybeAutoCommit()
    const errors: unknown[] = []
    if (this.lostReason !== undefined) await this.loseAll(errors)
    await this.checkMetadata(errors)
    if (this.outcome !== undefined) await this.applyOutcome(errors)
    if (this.needsJoin && !this.joinInFlight) await this.startJoin(errors)
    if (errors.length > 0) throw errors[0]
  }

  /** The run loop's heartbeat: a fenced member learns it here. Liveness itself is the open member object. */
  heartbeat(): void {
    this.ensureNotFenced()
  }

  private ensureNotFenced(): void {
    if (this.isFenced) {
      throw new KafkaliteError(
        'ERR_FENCED_INSTANCE_ID',
        `Group ${this.groupId}: another member joined with groupInstanceId ${this.config.groupInstanceId}; this one is fenced and should be closed`,
        { groupId: this.groupId, groupInstanceId: this.config.groupInstanceId },
      )
    }
  }

  private maybeAutoCommit(): void {
    if (!this.config.enableAutoCommit || this.memberId === null) return
    const now = this.coordinator.engine.clock.now()
    if (now < this.nextAutoCommitMs) return
    this.nextAutoCommitMs = now + this.config.autoCommitIntervalMs
    // Kafka's auto-commit is asynchronous and its failures are only logged; a failed one is retried by the next.
    this.commitPositions(this.ownedPartitions).catch(() => undefined)
  }

  private async loseAll(errors: unknown[]): Promise<void> {
    this.lostReason = undefined
    await this.lose(this.ownedPartitions, errors)
  }

  private async lose(partitions: TopicPartition[], errors: unknown[]): Promise<void> {
    if (partitions.length === 0) return
    await callListener(this.listeners.lost, partitions, errors)
    this.drop(partitions)
  }

  private async checkMetadata(errors: unknown[]): Promise<void> {
    const engine = this.coordinator.engine
    const gone = this.ownedPartitions.filter((tp) => !engine.hasTopic(tp.topic))
    if (gone.length > 0) {
      await this.lose(gone, errors)
      this.needsJoin = true
    }
    if (this.memberId === null || this.joinInFlight || this.needsJoin) return
    const topics = this.resolveTopics()
    if (!sameTopics(topics, this.joinedTopics)) this.needsJoin = true
    for (const topic of topics) if (engine.partitionCount(topic) !== this.partitionsPerTopic.get(topic)) this.needsJoin = true
  }

  private async applyOutcome(errors: unknown[]): Promise<void> {
    const outcome = this.outcome!
    this.outcome = undefined
    this.joinInFlight = false
    switch (outcome.type) {
      case 'error':
        this.needsJoin = true
        errors.push(outcome.error)
        return
      case 'rejoin':
        this.needsJoin = true
        return
      case 'removed':
        this.removed('rebalanceTimeout')
        await this.loseAll(errors)
        return
      case 'assigned':
        await this.applyAssignment(outcome, errors)
    }
  }

  private async applyAssignment(outcome: Extract<JoinOutcome, { type: 'assigned' }>, errors: unknown[]): Promise<void> {
    this.memberId = outcome.memberId
    this.generation = outcome.generation
    this.protocol = outcome.protocol
    this.partitionsPerTopic = outcome.partitionsPerTopic
    const assigned = new Set(outcome.assignment.map(keyOf))
    const revoked = this.ownedPartitions.filter((tp) => !assigned.has(keyOf(tp)))
    if (revoked.length > 0) {
      await this.revoke(revoked, errors)
      // KIP-429: the revoked partitions are handed over by a second rebalance, which this join starts.
      if (this.rebalanceProtocol === 'cooperative') this.needsJoin = true
    }
    // The member may have been removed (a rebalance timeout) while its revoked listener ran: the
    // assignment is no longer its own, so it takes nothing; its next poll reports the loss and rejoins.
    if (this.memberId !== outcome.memberId || this.closing) return
    const engine = this.coordinator.engine
    const added = outcome.assignment.filter((tp) => !this.owned.has(keyOf(tp)) && engine.hasTopic(tp.topic))
    this.consumer.addPartitions(added.map((tp) => ({ ...tp, offset: this.coordinator.committed(this.groupId, tp.topic, tp.partition)?.offset ?? null })))
    for (const tp of added) this.owned.set(keyOf(tp), tp)
    await callListener(this.listeners.assigned, sortTopicPartitions(added), errors)
  }

  private async startJoin(errors: unknown[]): Promise<void> {
    const topics = await this.topicsToJoin()
    if (this.rebalanceProtocol === 'eager') {
      const owned = this.ownedPartitions
      this.previous = { partitions: owned, generation: this.generation }
      if (owned.length > 0) await this.revoke(owned, errors)
    } else {
      const unsubscribed = this.ownedPartitions.filter((tp) => !topics.includes(tp.topic))
      if (unsubscribed.length > 0) await this.revoke(unsubscribed, errors)
    }
    if (this.closing || this.isFenced) return
    const cooperative = this.rebalanceProtocol === 'cooperative'
    this.needsJoin = false
    this.joinInFlight = true
    const seq = ++this.joinSeq
    try {
      const ticket = await this.coordinator.join(this.groupId, {
        memberId: this.memberId,
        groupInstanceId: this.config.groupInstanceId,
        clientId: this.config.clientId,
        rebalanceTimeoutMs: this.config.maxPollIntervalMs,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        topics,
        protocols: this.config.partitionAssignmentStrategy,
        ownedPartitions: cooperative ? this.ownedPartitions : this.previous.partitions,
        // -1 only for a member that has never had an assignment: the coordinator then keeps what it has
        // stored for it (a static member's assignment from before a restart).
        ownedGeneration: cooperative ? this.generation : this.previous.generation,
        handle: this,
      })
      if (this.closing) {
        // close() ran while the join was on its way (it found no member id to leave with): leave now,
        // or the group would keep a member that never polls, holding partitions nobody consumes.
        this.forgetJoin()
        this.depart(ticket.memberId)
        return
      }
      this.memberId = ticket.memberId
      this.joinedTopics = topics
      ticket.outcome.then(
        (o) => this.deliver(seq, o),
        (error: unknown) => this.deliver(seq, { type: 'error', error }),
      )
    } catch (e) {
      this.joinInFlight = false
      this.needsJoin = true
      throw e
    }
  }

  private deliver(seq: number, outcome: PendingOutcome): void {
    if (seq !== this.joinSeq) return
    this.outcome = outcome
    this.nudge()
  }

  /** The member is out of the group: whatever its join in flight brings back no longer applies. */
  private forgetJoin(): void {
    this.joinSeq++
    this.outcome = undefined
    this.joinInFlight = false
  }

  /** The subscription as topic names; explicit topics that do not exist yet are created when auto-creation is on. */
  private async topicsToJoin(): Promise<string[]> {
    if ('topics' in this.subscription) {
      const engine = this.coordinator.engine
      for (const topic of this.subscription.topics) {
        if (!engine.hasTopic(topic) && engine.config.autoCreateTopicsEnable) await engine.ensureTopic(topic)
      }
    }
    return this.resolveTopics()
  }

  private resolveTopics(): string[] {
    const engine = this.coordinator.engine
    if ('topics' in this.subscription) return this.subscription.topics.filter((t) => engine.hasTopic(t))
    const pattern = this.subscription.pattern
    return engine.listTopics().filter((t) => {
      pattern.lastIndex = 0
      return pattern.test(t)
    })
  }

  private async revoke(partitions: TopicPartition[], errors: unknown[]): Promise<void> {
    if (this.config.enableAutoCommit) await this.commitPositions(partitions).catch(() => undefined)
    await callListener(this.listeners.revoked, partitions, errors)
    this.drop(partitions)
  }

  private drop(partitions: TopicPartition[]): void {
    this.consumer.removePartitions(partitions)
    for (const tp of partitions) this.owned.delete(keyOf(tp))
  }

  // ---------------------------------------------------------------------------------------------------
  // Commits

  /**
   * Commits `offsets` for this member: they must be of partitions it owns (ERR_NOT_ASSIGNED otherwise).
   * Resolves with a promise of durability once the commit is applied (appended and replayed). Checks and
   * the append run without an await between them.
   */
  async startCommit(offsets: readonly OffsetToCommit[]): Promise<Promise<void>> {
    await this.coordinator.ready('commit')
    this.ensureNotFenced()
    if (offsets.length === 0) return Promise.resolve()
    for (const o of offsets) {
      if (!this.owned.has(keyOf(o))) {
        throw new KafkaliteError(
          'ERR_NOT_ASSIGNED',
          `Group ${this.groupId}: ${o.topic}-${o.partition} is not assigned to this member (it was never assigned, or has been revoked), so it may not commit it`,
          { groupId: this.groupId, topic: o.topic, partition: o.partition, memberId: this.memberId },
        )
      }
    }
    if (this.memberId === null) {
      throw new KafkaliteError('ERR_UNKNOWN_MEMBER', `Group ${this.groupId}: this consumer is not a member of the group (it was removed, or has not joined yet)`, {
        groupId: this.groupId,
      })
    }
    return this.coordinator.commitNow(this.groupId, { memberId: this.memberId, generation: this.generation, groupInstanceId: this.config.groupInstanceId }, offsets)
  }

  /** Commits the consumer positions of `partitions` (those that have one), durably. */
  async commitPositions(partitions: readonly TopicPartition[]): Promise<void> {
    const wanted = new Set(partitions.map(keyOf))
    const offsets = this.consumer.positions().filter((p) => wanted.has(keyOf(p)))
    if (offsets.length === 0) return
    await (await this.startCommit(offsets))
  }

  // ---------------------------------------------------------------------------------------------------
  // Liveness and close

  private armPollTimer(): void {
    if (this.pollTimer !== undefined || this.closing) return
    const clock = this.coordinator.engine.clock
    const due = this.consumer.lastPollMs + this.config.maxPollIntervalMs
    this.pollTimer = clock.setTimeout(() => this.onPollTimer(), Math.max(0, due - clock.now()))
  }

  private onPollTimer(): void {
    this.pollTimer = undefined
    if (this.closing || this.coordinator.isClosed) return
    const now = this.coordinator.engine.clock.now()
    if (!this.consumer.pollInProgress && now - this.consumer.lastPollMs >= this.config.maxPollIntervalMs) {
      this.pollTimedOut()
      return
    }
    const due = this.consumer.pollInProgress ? now + this.config.maxPollIntervalMs : this.consumer.lastPollMs + this.config.maxPollIntervalMs
    this.pollTimer = this.coordinator.engine.clock.setTimeout(() => this.onPollTimer(), Math.max(0, due - now))
  }

  /** Kafka's "consumer poll timeout has expired": the member gives up its place in the group. */
  private pollTimedOut(): void {
    const memberId = this.memberId
    if (memberId === null) return
    this.forgetJoin()
    this.needsJoin = true
    this.memberId = null
    if (this.config.groupInstanceId !== null) {
      // A static member keeps its partitions for sessionTimeoutMs; its next poll takes them back.
      this.coordinator.detach(this.groupId, memberId, false)
      return
    }
    this.generation = -1
    this.lostReason = 'pollTimeout'
    this.coordinator.leave(this.groupId, memberId)
  }

  /**
   * The consumer is closing: auto-commit if enabled, then a dynamic member calls `revoked` and leaves
   * (the others rebalance at once); a static member detaches and keeps its place for sessionTimeoutMs,
   * unless `leaveGroupOnClose` was set.
   */
  async onClose(): Promise<void> {
    this.closing = true
    this.pollTimer?.cancel()
    this.pollTimer = undefined
    const memberId = this.memberId
    if (memberId === null || this.isFenced || this.coordinator.isClosed) return
    const errors: unknown[] = []
    if (this.config.enableAutoCommit) await this.commitPositions(this.ownedPartitions).catch(() => undefined)
    if (!this.staysOnClose) await callListener(this.listeners.revoked, this.ownedPartitions, errors)
    this.depart(this.memberId ?? memberId)
    this.memberId = null
    if (errors.length > 0) throw errors[0]
  }

  /** A static member keeps its place for sessionTimeoutMs when its object closes, unless leaveGroupOnClose. */
  private get staysOnClose(): boolean {
    return this.config.groupInstanceId !== null && !this.options.leaveGroupOnClose
  }

  /** The closing object's member leaves the group (dynamic) or detaches from it (static). */
  private depart(memberId: string): void {
    if (this.staysOnClose) this.coordinator.detach(this.groupId, memberId, true)
    else this.coordinator.leave(this.groupId, memberId)
  }
}

async function callListener(listener: ((p: TopicPartition[]) => void | Promise<void>) | undefined, partitions: TopicPartition[], errors: unknown[]): Promise<void> {
  if (listener === undefined) return
  try {
    await listener(partitions)
  } catch (e) {
    errors.push(e)
  }
}

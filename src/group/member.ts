/**
 * A consumer group member: a Consumer (src/consumer: poll, the async iterator, run, pause/resume, seek,
 * autoOffsetReset) whose assignment comes from its group, plus commits. Created by
 * `group.consumer({ topics | pattern, ...consumer options })`.
 *
 * Lifecycle: the member joins its group at its first poll and takes part in every rebalance on its
 * polling path (member-session.ts). `close()` leaves the group (a dynamic member: the others rebalance at
 * once) or, for a static member (groupInstanceId), keeps its place for sessionTimeoutMs. After close,
 * every method throws or rejects with ERR_CLOSED; `kl.close()` closes every member.
 *
 * Commits: `commit()` resolves once the offsets are appended to `__consumer_offsets` and fsynced;
 * `commitAsync()` applies them at once and reports durability to a callback. Without arguments both
 * commit the consumer positions of every owned partition: the offsets after the records the application
 * has been given (poll) or has finished (iterator, run loop). Only owned partitions may be committed
 * (ERR_NOT_ASSIGNED), and only in the member's current generation (ERR_ILLEGAL_GENERATION).
 */
import { resolveConsumerConfig, type ConsumerConfigInput } from '../config/consumer-config'
import { Consumer } from '../consumer/consumer'
import type { TopicPartition as ConsumerTopicPartition } from '../consumer/types'
import type { Engine } from '../engine/engine'
import { describeValue, InvalidArgumentError, KafkaliteError } from '../errors/index'
import type { Offset, TimestampMs } from '../util/types'
import type { GroupCoordinator, OffsetToCommit } from './coordinator'
import { MemberSession, type RebalanceListeners, type Subscription } from './member-session'
import { sortTopicPartitions, type TopicPartition } from './topic-partition'

/** Options of `group.consumer(...)`: a subscription, rebalance listeners, and consumer config keys. */
export type GroupConsumerOptions = Omit<ConsumerConfigInput, 'groupId'> & {
  /** Topic names to subscribe to. Exactly one of `topics` and `pattern`. */
  topics?: readonly string[]
  /** Subscribes to every topic whose name matches, including topics created later (internal topics never match). */
  pattern?: RegExp
  listeners?: RebalanceListeners
  /** A static member leaves the group on close instead of keeping its place for sessionTimeoutMs. Default false. */
  leaveGroupOnClose?: boolean
}

export interface CommitOffset {
  topic: string
  partition: number
  /** The offset of the next record to consume (Kafka's convention: last processed + 1). */
  offset: Offset
  /** Kept with the offset (at most offsetMetadataMaxBytes of UTF-8). */
  metadata?: string
}

export interface CommittedOffsetInfo {
  topic: string
  partition: number
  offset: Offset
  metadata: string
  commitTimestamp: TimestampMs
}

export class GroupConsumer extends Consumer {
  readonly groupId: string
  readonly #session: MemberSession
  readonly #coordinator: GroupCoordinator

  /** @internal Members are created with `group.consumer(options)`. */
  constructor(coordinator: GroupCoordinator, engine: Engine, groupId: string, config: ConsumerConfigInput, subscription: Subscription, options: GroupConsumerOptions) {
    // The session needs the resolved config before super() runs; the Consumer resolves the same input again.
    const session = new MemberSession(coordinator, groupId, resolveConsumerConfig(config), subscription, options.listeners ?? {}, {
      leaveGroupOnClose: options.leaveGroupOnClose === true,
    })
    super(engine, config, { coordinator: session })
    session.attach(this)
    this.groupId = groupId
    this.#session = session
    this.#coordinator = coordinator
  }

  /** The member id the group gave this member; null before it has joined or after it was removed. */
  get memberId(): string | null {
    return this.#session.memberId
  }

  /** The generation of the member's current assignment; -1 before the first. */
  get generation(): number {
    return this.#session.generation
  }

  get groupInstanceId(): string | null {
    return this.config.groupInstanceId
  }

  /** 'cooperative' when every configured assignor is cooperative (the default), else 'eager'. */
  get rebalanceProtocol(): 'eager' | 'cooperative' {
    return this.#session.rebalanceProtocol
  }

  /** A group member's partitions come from its group: manual assignment is ERR_INVALID_STATE (as in Kafka). */
  override assign(partitions: readonly ConsumerTopicPartition[]): void {
    void partitions
    throw new KafkaliteError('ERR_INVALID_STATE', `A member of group ${this.groupId} gets its partitions from the group; use a standalone consumer to assign partitions by hand`, {
      groupId: this.groupId,
    })
  }

  /**
   * Commits `offsets` (default: the position of every owned partition) and resolves once they are
   * durable. Rejects with ERR_NOT_ASSIGNED, ERR_ILLEGAL_GENERATION, ERR_UNKNOWN_MEMBER,
   * ERR_REBALANCE_IN_PROGRESS, ERR_FENCED_INSTANCE_ID, ERR_INVALID_ARGUMENT or ERR_CLOSED; then nothing
   * was committed.
   */
  async commit(offsets?: readonly CommitOffset[]): Promise<void> {
    const durable = await this.#startCommit(offsets)
    await durable
  }

  /**
   * Commits like `commit` without waiting: the offsets are applied (appended and replayed) as soon as the
   * checks pass, and `callback` hears of durability or of the error. Without a callback an error is
   * dropped, as with Kafka's commitAsync; a later commit covers the same partitions.
   */
  commitAsync(offsets?: readonly CommitOffset[], callback?: (error: Error | null) => void): void {
    this.#ensureNotClosed()
    this.#startCommit(offsets)
      .then((durable) => durable)
      .then(
        () => callback?.(null),
        (e: unknown) => callback?.(e as Error),
      )
  }

  /** The group's committed offsets of `partitions` (default: the owned ones); null where none is committed. */
  committed(partitions?: readonly TopicPartition[]): (CommittedOffsetInfo | null)[] {
    this.#ensureNotClosed()
    const list = partitions === undefined ? this.#session.ownedPartitions : checkPartitions(partitions)
    return list.map((tp) => {
      const c = this.#coordinator.committed(this.groupId, tp.topic, tp.partition)
      return c === undefined ? null : { topic: tp.topic, partition: tp.partition, offset: c.offset, metadata: c.metadata, commitTimestamp: c.commitTimestamp }
    })
  }

  /** The partitions the group assigned to this member, sorted. */
  ownedPartitions(): TopicPartition[] {
    this.#ensureNotClosed()
    return sortTopicPartitions(this.#session.ownedPartitions)
  }

  async #startCommit(offsets: readonly CommitOffset[] | undefined): Promise<Promise<void>> {
    this.#ensureNotClosed()
    const list: OffsetToCommit[] =
      offsets === undefined ? this.positions().filter((p) => this.#session.owns(p)) : checkCommitOffsets(offsets)
    return this.#session.startCommit(list)
  }

  #ensureNotClosed(): void {
    if (this.state === 'closed') throw new KafkaliteError('ERR_CLOSED', `Member of group ${this.groupId} is closed`, { groupId: this.groupId })
  }
}

function checkPartitions(partitions: readonly TopicPartition[]): TopicPartition[] {
  if (!Array.isArray(partitions)) throw new InvalidArgumentError(`Expected an array of { topic, partition }, got ${describeValue(partitions)}`)
  return partitions.map((tp) => {
    if (typeof tp?.topic !== 'string' || !Number.isInteger(tp.partition) || tp.partition < 0) {
      throw new InvalidArgumentError(`Expected { topic: string, partition: integer ≥ 0 }, got ${describeValue(tp)}`)
    }
    return { topic: tp.topic, partition: tp.partition }
  })
}

function checkCommitOffsets(offsets: readonly CommitOffset[]): OffsetToCommit[] {
  if (!Array.isArray(offsets)) throw new InvalidArgumentError(`commit expects an array of { topic, partition, offset, metadata? }, got ${describeValue(offsets)}`)
  return offsets.map((o) => {
    const [tp] = checkPartitions([o])
    if (typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset) || o.offset < 0) {
      throw new InvalidArgumentError(`Offset to commit for ${tp!.topic}-${tp!.partition} must be an integer ≥ 0, got ${describeValue(o.offset)}`, { ...tp })
    }
    if (o.metadata !== undefined && typeof o.metadata !== 'string') throw new InvalidArgumentError(`Commit metadata must be a string, got ${describeValue(o.metadata)}`, { ...tp })
    return { topic: tp!.topic, partition: tp!.partition, offset: o.offset, metadata: o.metadata ?? '' }
  })
}

/**
 * `kl.consumerGroup(groupId, defaults)`: the handle of one consumer group. It creates members
 * (`consumer`), and operates the group: `describe`, `resetOffsets`, `close`. The group itself lives in the
 * coordinator, so any number of handles for the same id see the same group, and a handle works for a
 * group that has no members (yet, or any more).
 */
import type { ConsumerConfigInput } from '../config/consumer-config'
import { resolveConsumerConfig } from '../config/consumer-config'
import { validateTopicName } from '../config/topic-name'
import type { Engine } from '../engine/engine'
import { describeValue, InvalidArgumentError, KafkaliteError } from '../errors/index'
import type { GroupCoordinator } from './coordinator'
import { checkGroupId } from './group-checks'
import { describeGroup, type GroupDescription } from './describe'
import type { GroupState } from './group-state'
import { GroupConsumer, type GroupConsumerOptions } from './member'
import type { Subscription } from './member-session'
import { resetOffsets, type ResetOffsetsOptions, type ResetPlanEntry } from './reset-offsets'

/** Consumer config defaults for every member created through the handle (each member may override them). */
export type ConsumerGroupOptions = Omit<ConsumerConfigInput, 'groupId'>

const MEMBER_ONLY_KEYS = ['topics', 'pattern', 'listeners', 'leaveGroupOnClose'] as const

export class ConsumerGroup {
  readonly groupId: string
  readonly #coordinator: GroupCoordinator
  readonly #engine: Engine
  readonly #defaults: ConsumerGroupOptions
  readonly #members = new Set<GroupConsumer>()

  /** @internal Obtain groups with `kl.consumerGroup(groupId, options)`. */
  constructor(coordinator: GroupCoordinator, engine: Engine, groupId: string, defaults: ConsumerGroupOptions = {}) {
    checkGroupId(groupId)
    if (typeof defaults !== 'object' || defaults === null) throw new InvalidArgumentError(`consumerGroup options must be an object, got ${describeValue(defaults)}`)
    if ('groupId' in defaults) throw new InvalidArgumentError('consumerGroup options may not set groupId: it is the first argument', { groupId })
    resolveConsumerConfig({ ...defaults, groupId }) // ERR_INVALID_CONFIG now rather than at the first member
    this.groupId = groupId
    this.#coordinator = coordinator
    this.#engine = engine
    this.#defaults = { ...defaults }
  }

  /** The group's state: Empty for a group with no members (or only offsets), Dead for one that does not exist. */
  get state(): GroupState {
    this.#engine.ensureOpen()
    return this.#coordinator.groupState(this.groupId)
  }

  /**
   * A new member subscribed to `topics` or to the topics matching `pattern`. It joins at its first poll.
   * Throws ERR_INVALID_TOPIC for a malformed name, ERR_UNKNOWN_TOPIC_OR_PARTITION for a topic that does not
   * exist when auto-creation is off, ERR_INVALID_CONFIG for a bad consumer option (including a
   * sessionTimeoutMs outside the engine's group bounds), ERR_INVALID_ARGUMENT for a bad subscription.
   */
  consumer(options: GroupConsumerOptions): GroupConsumer {
    this.#engine.ensureOpen()
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`consumer options must be an object, got ${describeValue(options)}`)
    if ('groupId' in options) throw new InvalidArgumentError(`A member's groupId is its group's (${this.groupId}); leave it out`, { groupId: this.groupId })
    const subscription = this.#subscription(options)
    const config: Record<string, unknown> = { ...this.#defaults, ...options, groupId: this.groupId }
    for (const key of MEMBER_ONLY_KEYS) delete config[key]
    this.#coordinator.checkMemberConfig(resolveConsumerConfig(config as ConsumerConfigInput))
    const member = new GroupConsumer(this.#coordinator, this.#engine, this.groupId, config as ConsumerConfigInput, subscription, options)
    this.#members.add(member)
    return member
  }

  /** See describe.ts: members, assignments, and per partition the committed offset, lag and lag against retention. */
  describe(): GroupDescription {
    this.#engine.ensureOpen()
    return describeGroup(this.#coordinator, this.groupId)
  }

  /**
   * Moves the group's committed offsets (see reset-offsets.ts). ERR_NON_EMPTY_GROUP while the group has
   * members; with `dryRun` returns the plan and changes nothing.
   */
  resetOffsets(options: ResetOffsetsOptions): Promise<ResetPlanEntry[]> {
    return guard(this.#engine, () => resetOffsets(this.#coordinator, this.groupId, options))
  }

  /** Closes every member created through this handle. */
  async close(): Promise<void> {
    const members = [...this.#members]
    this.#members.clear()
    const results = await Promise.allSettled(members.map((m) => m.close()))
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failure !== undefined) throw failure.reason
  }

  #subscription(options: GroupConsumerOptions): Subscription {
    const { topics, pattern, listeners } = options
    if (listeners !== undefined && (typeof listeners !== 'object' || listeners === null)) {
      throw new InvalidArgumentError(`listeners must be an object of functions { assigned?, revoked?, lost? }, got ${describeValue(listeners)}`, { groupId: this.groupId })
    }
    for (const [name, fn] of Object.entries(listeners ?? {})) {
      if (!['assigned', 'revoked', 'lost'].includes(name) || typeof fn !== 'function') {
        throw new InvalidArgumentError(`listeners.${name} must be one of assigned, revoked, lost, and a function`, { groupId: this.groupId })
      }
    }
    if ((topics === undefined) === (pattern === undefined)) {
      throw new InvalidArgumentError('A member subscribes to either topics (a list of names) or a pattern (a RegExp): give exactly one', { groupId: this.groupId })
    }
    if (pattern !== undefined) {
      if (!(pattern instanceof RegExp)) throw new InvalidArgumentError(`pattern must be a RegExp, got ${describeValue(pattern)}`, { groupId: this.groupId })
      return { pattern: new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) }
    }
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError(`topics must be a non-empty array of topic names, got ${describeValue(topics)}`, { groupId: this.groupId })
    for (const topic of topics) {
      validateTopicName(topic)
      if (!this.#engine.hasTopic(topic) && !this.#engine.config.autoCreateTopicsEnable) {
        throw new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', `Unknown topic ${describeValue(topic)} (autoCreateTopicsEnable is false)`, { topic, groupId: this.groupId })
      }
    }
    return { topics: [...new Set(topics)] }
  }
}

async function guard<T>(engine: Engine, fn: () => Promise<T>): Promise<T> {
  engine.ensureOpen()
  return fn()
}

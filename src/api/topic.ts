/**
 * A topic: a name, a partition count that can only grow, a config, and its partitions. Every property
 * reads the engine's current state (a topic's partition count and config change at run time), so a
 * Topic is a handle, not a snapshot: after `deleteTopic` it throws ERR_UNKNOWN_TOPIC_OR_PARTITION.
 */
import type { TopicConfig } from '../config/index'
import type { Engine, TopicDescription } from '../engine/engine'
import type { TopicId } from '../engine/topic-id'
import { Partition } from './partition'

export class Topic {
  readonly #engine: Engine

  /** @internal Obtain topics with `kl.topic(name)`. */
  constructor(
    engine: Engine,
    readonly name: string,
  ) {
    this.#engine = engine
  }

  get topicId(): TopicId {
    return this.describe().topicId
  }

  get partitionCount(): number {
    this.#engine.ensureOpen()
    return this.#engine.partitionCount(this.name)
  }

  /** The resolved config: the topic's overrides over the engine's topic defaults, frozen. */
  get config(): Readonly<TopicConfig> {
    this.#engine.ensureOpen()
    return this.#engine.topicConfig(this.name)
  }

  /** Partition `index`; ERR_UNKNOWN_TOPIC_OR_PARTITION unless 0 ≤ index < partitionCount. */
  partition(index: number): Partition {
    this.#engine.ensureOpen()
    this.#engine.log(this.name, index)
    return new Partition(this.#engine, this.name, index)
  }

  /** Every partition, in order. */
  partitions(): Partition[] {
    return Array.from({ length: this.partitionCount }, (_, i) => new Partition(this.#engine, this.name, i))
  }

  /** Offsets, sizes and config of every partition (the same as `kl.describeTopic(name)`). */
  describe(): TopicDescription {
    return this.#engine.describeTopic(this.name)
  }
}

/**
 * `group.resetOffsets(...)`: `kafka-consumer-groups.sh --reset-offsets`. Allowed only while the group has
 * no members (ERR_NON_EMPTY_GROUP otherwise, as Kafka's tool refuses an active group), because a live
 * member would overwrite the new offsets with its next commit.
 *
 * Targets, per partition (each clamped to [log start offset, high watermark], as the tool clamps):
 * - 'earliest': the log start offset; 'latest': the high watermark;
 * - { timestamp }: the first offset whose record timestamp is ≥ it (the high watermark if none is);
 * - { offset }: that offset;
 * - { shiftBy }: the committed offset + n (ERR_INVALID_ARGUMENT for a partition without one).
 *
 * The plan is computed first, in full; `dryRun` returns it and writes nothing. Otherwise the offsets are
 * committed as one batch (an admin commit: no member, generation -1) and the plan is returned once they
 * are durable.
 */
import { validateTopicName } from '../config/topic-name'
import { describeValue, InvalidArgumentError } from '../errors/index'
import type { Offset } from '../util/types'
import type { GroupCoordinator } from './coordinator'
import { parseTpKey } from './topic-partition'

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: Offset } | { shiftBy: number }

export interface ResetOffsetsOptions {
  to: ResetTarget
  /** Topics to reset, every partition of each. Default: every topic the group has committed offsets for. */
  topics?: readonly string[]
  /** Compute and return the plan without committing it. */
  dryRun?: boolean
}

export interface ResetPlanEntry {
  topic: string
  partition: number
  /** The committed offset before the reset; null if none. */
  currentOffset: Offset | null
  newOffset: Offset
}

export async function resetOffsets(coordinator: GroupCoordinator, groupId: string, options: ResetOffsetsOptions): Promise<ResetPlanEntry[]> {
  const { to, topics, dryRun } = checkOptions(options)
  coordinator.requireEmpty(groupId, 'reset')
  const plan = planReset(coordinator, groupId, to, topics)
  if (dryRun) return plan
  await coordinator.ready()
  // Checked again after the await: a member may have joined meanwhile. Nothing awaits from here to the append.
  coordinator.requireEmpty(groupId, 'reset')
  await coordinator.commitNow(
    groupId,
    { memberId: null, generation: -1, groupInstanceId: null },
    plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset, metadata: '' })),
  )
  return plan
}

function planReset(coordinator: GroupCoordinator, groupId: string, to: ResetTarget, topics: readonly string[] | undefined): ResetPlanEntry[] {
  const engine = coordinator.engine
  const names = topics ?? [...new Set([...(coordinator.storedGroup(groupId)?.offsets.keys() ?? [])].map((k) => parseTpKey(k).topic))].filter((t) => engine.hasTopic(t))
  const plan: ResetPlanEntry[] = []
  for (const topic of [...names].sort()) {
    const partitions = engine.partitionCount(topic) // ERR_UNKNOWN_TOPIC_OR_PARTITION
    for (let partition = 0; partition < partitions; partition++) {
      const log = engine.log(topic, partition)
      const currentOffset = coordinator.committed(groupId, topic, partition)?.offset ?? null
      const clamp = (o: Offset) => Math.min(Math.max(o, log.logStartOffset), log.highWatermark)
      let newOffset: Offset
      if (to === 'earliest') newOffset = log.logStartOffset
      else if (to === 'latest') newOffset = log.highWatermark
      else if ('timestamp' in to) newOffset = clamp(log.offsetForTimestamp(to.timestamp)?.offset ?? log.highWatermark)
      else if ('offset' in to) newOffset = clamp(to.offset)
      else {
        if (currentOffset === null) {
          throw new InvalidArgumentError(`Cannot shift ${topic}-${partition} of group ${groupId}: it has no committed offset`, { groupId, topic, partition })
        }
        newOffset = clamp(currentOffset + to.shiftBy)
      }
      plan.push({ topic, partition, currentOffset, newOffset })
    }
  }
  return plan
}

function checkOptions(options: ResetOffsetsOptions): { to: ResetTarget; topics: readonly string[] | undefined; dryRun: boolean } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`resetOffsets expects { to, topics?, dryRun? }, got ${describeValue(options)}`)
  const { to, topics, dryRun = false } = options
  const bad = () => new InvalidArgumentError(`resetOffsets "to" must be 'earliest', 'latest', { timestamp }, { offset } or { shiftBy }, got ${describeValue(to)}`)
  if (to !== 'earliest' && to !== 'latest') {
    if (typeof to !== 'object' || to === null) throw bad()
    const keys = Object.keys(to)
    if (keys.length !== 1) throw bad()
    const [key] = keys as ['timestamp' | 'offset' | 'shiftBy']
    const value = (to as Record<string, unknown>)[key]
    if (!['timestamp', 'offset', 'shiftBy'].includes(key) || typeof value !== 'number' || !Number.isSafeInteger(value)) throw bad()
    if (key !== 'shiftBy' && value < 0) throw new InvalidArgumentError(`resetOffsets ${key} must be ≥ 0, got ${value}`)
  }
  if (topics !== undefined) {
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError(`resetOffsets topics must be a non-empty array of topic names, got ${describeValue(topics)}`)
    for (const t of topics) validateTopicName(t)
  }
  if (typeof dryRun !== 'boolean') throw new InvalidArgumentError(`resetOffsets dryRun must be a boolean, got ${describeValue(dryRun)}`)
  return { to, topics, dryRun }
}

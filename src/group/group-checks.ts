/**
 * The checks a join or a commit must pass before the coordinator changes anything (Kafka's
 * `validateOffsetCommit`, `validateJoinRequest`). Each throws a typed error and has no side effects.
 */
import type { EngineConfig } from '../config/engine-config'
import type { Engine } from '../engine/engine'
import { describeValue, InvalidArgumentError, InvalidConfigError, KafkaliteError } from '../errors/index'
import type { Offset } from '../util/types'
import { selectAssignor } from './assignor'
import type { Group } from './group'
import type { JoinRequest } from './membership'
import type { TopicPartition } from './topic-partition'

/** Who commits: a member in its generation, or (memberId null, generation -1) an admin or standalone commit. */
export interface Committer {
  readonly memberId: string | null
  readonly generation: number
  readonly groupInstanceId: string | null
}

export interface OffsetToCommit extends TopicPartition {
  readonly offset: Offset
  readonly metadata?: string
}

export function checkGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId.length === 0) throw new InvalidArgumentError(`A group id must be a non-empty string, got ${describeValue(groupId)}`)
  if (Buffer.byteLength(groupId, 'utf8') > 0x7fff) throw new InvalidArgumentError('A group id must fit in 32767 UTF-8 bytes (an int16 string in the offsets topic)')
}

/** A member's session timeout must be within the engine's group bounds (Kafka's INVALID_SESSION_TIMEOUT). */
export function checkSessionTimeout(config: Readonly<EngineConfig>, sessionTimeoutMs: number): void {
  const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = config
  if (sessionTimeoutMs < min || sessionTimeoutMs > max) {
    throw new InvalidConfigError('sessionTimeoutMs', sessionTimeoutMs, `must be within the engine's [groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs] = [${min}, ${max}]`)
  }
}

/** A joining member must share an assignor with the members already in the group. */
export function checkProtocols(group: Group, request: JoinRequest): void {
  const others = [...group.members.values()].filter((m) => m.memberId !== request.memberId && !(request.groupInstanceId !== null && m.groupInstanceId === request.groupInstanceId))
  if (others.length === 0) return
  if (selectAssignor([...others.map((m) => m.protocols), request.protocols]) === undefined) {
    throw new KafkaliteError(
      'ERR_INCONSISTENT_GROUP_PROTOCOL',
      `Group ${group.groupId}: this member's partitionAssignmentStrategy [${request.protocols.join(', ')}] shares no assignor with the members already in the group`,
      { groupId: group.groupId, protocols: [...request.protocols] },
    )
  }
}

export function validateCommitter(group: Group | undefined, groupId: string, committer: Committer): void {
  const context = { groupId, memberId: committer.memberId, generation: committer.generation }
  if (committer.memberId === null) {
    if (group === undefined || group.state === 'Empty' || group.state === 'Dead') return
    throw new KafkaliteError('ERR_NON_EMPTY_GROUP', `Group ${groupId} has members (state ${group.state}); only its members may commit`, context)
  }
  const member = group?.members.get(committer.memberId)
  const holder = committer.groupInstanceId === null ? undefined : group?.staticMembers.get(committer.groupInstanceId)
  if (holder !== undefined && holder !== committer.memberId) {
    throw new KafkaliteError('ERR_FENCED_INSTANCE_ID', `Group ${groupId}: groupInstanceId ${committer.groupInstanceId} is held by a newer member`, context)
  }
  if (group === undefined || member === undefined) {
    throw new KafkaliteError('ERR_UNKNOWN_MEMBER', `Group ${groupId} has no member ${committer.memberId}: it was removed (left, timed out, or the group rebalanced without it); join again`, context)
  }
  if (group.state === 'CompletingRebalance') {
    throw new KafkaliteError('ERR_REBALANCE_IN_PROGRESS', `Group ${groupId} is completing a rebalance; commit after the new assignment arrives`, context)
  }
  // A generation that a new rebalance overtook before it was handed out was never seen by any member:
  // until the next one completes, the members' generation is the one they last got (Kafka's members
  // learn a generation from the JoinGroup response, before it can be overtaken by SyncGroup's failure).
  const handedOutInPreparing = group.state === 'PreparingRebalance' && committer.generation === group.handedOutGeneration
  if (committer.generation !== group.generation && !handedOutInPreparing) {
    throw new KafkaliteError(
      'ERR_ILLEGAL_GENERATION',
      `Group ${groupId} is at generation ${group.generation}, but the commit is from generation ${committer.generation}: the group rebalanced since this member's last assignment`,
      { ...context, currentGeneration: group.generation },
    )
  }
}

export function validateOffset(engine: Engine, groupId: string, o: OffsetToCommit): void {
  engine.log(o.topic, o.partition) // ERR_UNKNOWN_TOPIC_OR_PARTITION
  const context = { groupId, topic: o.topic, partition: o.partition }
  if (typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset) || o.offset < 0) {
    throw new InvalidArgumentError(`Offset to commit for ${o.topic}-${o.partition} must be an integer ≥ 0, got ${describeValue(o.offset)}`, context)
  }
  const metadata = o.metadata ?? ''
  if (typeof metadata !== 'string') throw new InvalidArgumentError(`Commit metadata must be a string, got ${describeValue(metadata)}`, context)
  const max = engine.config.offsetMetadataMaxBytes
  if (Buffer.byteLength(metadata, 'utf8') > max) {
    throw new InvalidArgumentError(`Commit metadata for ${o.topic}-${o.partition} is ${Buffer.byteLength(metadata, 'utf8')} bytes, more than offsetMetadataMaxBytes (${max})`, context)
  }
}

/** Argument checks shared by the engine's public operations: each turns bad input into a typed error. */
import { INT32_MAX } from '../config/define'
import { describeValue, InvalidArgumentError, KafkaliteError } from '../errors/index'

export function checkPartitionCount(count: unknown, topic: string): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > INT32_MAX) {
    throw new KafkaliteError('ERR_INVALID_PARTITIONS', `Partition count must be an integer in [1, ${INT32_MAX}], got ${describeValue(count)}`, { topic, partitions: count })
  }
}

export function checkTopicArgument(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new InvalidArgumentError(`Topic name must be a string, got ${describeValue(name)}`)
}

export function unknownTopicOrPartition(message: string, topic: unknown, partition?: unknown): KafkaliteError {
  const context: Record<string, unknown> = {}
  if (typeof topic === 'string') context.topic = topic
  if (typeof partition === 'number') context.partition = partition
  return new KafkaliteError('ERR_UNKNOWN_TOPIC_OR_PARTITION', message, context)
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

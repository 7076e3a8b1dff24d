/**
 * Checks of caller input at the consumer's boundary. Every check runs before the consumer changes
 * anything, so a bad argument leaves its state as it was. Shapes and numbers are ERR_INVALID_ARGUMENT;
 * whether a topic or partition exists is the engine's answer (ERR_UNKNOWN_TOPIC_OR_PARTITION).
 */
import { describeValue, InvalidArgumentError } from '../errors/index'
import type { Offset } from '../util/types'
import type { PollOptions, TopicPartition } from './types'

export function checkTopicPartition(value: unknown, operation: string): TopicPartition {
  const v = value as Partial<TopicPartition> | null
  if (typeof v !== 'object' || v === null || typeof v.topic !== 'string' || !Number.isInteger(v.partition) || (v.partition as number) < 0) {
    throw new InvalidArgumentError(`${operation} expects { topic: string, partition: integer ≥ 0 }, got ${describeValue(value)}`)
  }
  return { topic: v.topic, partition: v.partition as number }
}

/** A list of partitions, without repeats (a repeat names the same partition and is dropped). */
export function checkTopicPartitionList(value: unknown, operation: string): TopicPartition[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${operation} expects an array of { topic, partition }, got ${describeValue(value)}`)
  const seen = new Set<string>()
  const out: TopicPartition[] = []
  for (const item of value) {
    const tp = checkTopicPartition(item, operation)
    const key = `${tp.topic}:${tp.partition}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(tp)
  }
  return out
}

/** An offset: a safe integer ≥ 0 (Kafka's offsets are int64 ≥ 0; kafkalite keeps them as exact numbers). */
export function checkOffset(value: unknown, name: string, tp?: TopicPartition): Offset {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be an integer ≥ 0, got ${describeValue(value)}`, tp === undefined ? {} : { ...tp })
  }
  return value
}

/** A timestamp for offsetsForTimes: milliseconds since the epoch, a safe integer ≥ 0. */
export function checkTimestamp(value: unknown, tp: TopicPartition): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`timestamp must be an integer ≥ 0 (milliseconds since the epoch), got ${describeValue(value)}`, { ...tp })
  }
  return value
}

export function checkPollOptions(options: unknown, defaults: { maxRecords: number; timeoutMs: number }): { maxRecords: number; timeoutMs: number } {
  if (options === undefined) return defaults
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`poll options must be an object, got ${describeValue(options)}`)
  const { maxRecords = defaults.maxRecords, timeoutMs = defaults.timeoutMs } = options as PollOptions
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) throw new InvalidArgumentError(`maxRecords must be an integer ≥ 1, got ${describeValue(maxRecords)}`)
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidArgumentError(`timeoutMs must be a number ≥ 0, got ${describeValue(timeoutMs)}`)
  }
  return { maxRecords, timeoutMs }
}

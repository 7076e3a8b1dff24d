/** Fixtures for consumer tests: an in-memory engine on a manual clock, producing records, collecting them. */
import { afterEach } from 'vitest'
import { encodeRecordBatch, type CompressionCodec, type RecordHeader } from '../../src/codec/record-batch'
import type { ConsumerConfigInput } from '../../src/config/consumer-config'
import { Consumer, type ConsumerHooks } from '../../src/consumer/consumer'
import type { ConsumerRecord } from '../../src/consumer/types'
import { Engine } from '../../src/engine/engine'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import type { AppendResult } from '../../src/storage/partition-log'

export const T0 = 1_700_000_000_000

export interface Env {
  engine: Engine
  clock: ManualClock
  consumer(config?: ConsumerConfigInput, hooks?: ConsumerHooks): Consumer
}

const engines: Engine[] = []

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close().catch(() => undefined)
})

/** An in-memory engine on a ManualClock with the given topics (name → partitions). */
export async function openEnv(topics: Record<string, number> = { t: 1 }): Promise<Env> {
  const clock = new ManualClock(T0)
  const engine = await Engine.open({ inMemory: true, clock, fs: new MemoryFileSystem({ clock }) })
  engines.push(engine)
  for (const [name, partitions] of Object.entries(topics)) await engine.createTopic(name, { partitions })
  return { engine, clock, consumer: (config = {}, hooks = {}) => new Consumer(engine, config, hooks) }
}

export interface ProduceOptions {
  timestamp?: number
  compression?: CompressionCodec
  headers?: RecordHeader[]
  /** Leave the records unflushed (not yet visible under durability "fsync"). */
  noFlush?: boolean
}

/** Appends one batch holding `values` (keys k<offset-in-batch>) and waits until it is visible. */
export async function produce(env: Env, topic: string, partition: number, values: string[], options: ProduceOptions = {}): Promise<AppendResult> {
  const log = env.engine.log(topic, partition)
  const ts = options.timestamp ?? T0
  const batch = encodeRecordBatch({
    compression: options.compression ?? 'none',
    records: values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: ts + i, headers: options.headers })),
  })
  const result = log.append(batch)
  if (!options.noFlush) await log.flushUpTo(result.lastOffset)
  return result
}

/** Appends `batches` batches of `perBatch` records, values "<partition>-<n>". */
export async function produceMany(env: Env, topic: string, partition: number, batches: number, perBatch: number): Promise<void> {
  let n = 0
  for (let b = 0; b < batches; b++) {
    await produce(
      env,
      topic,
      partition,
      Array.from({ length: perBatch }, () => `${partition}-${n++}`),
    )
  }
}

export function values(records: readonly ConsumerRecord[]): string[] {
  return records.map((r) => r.value!.toString())
}

export function offsets(records: readonly ConsumerRecord[]): number[] {
  return records.map((r) => r.offset)
}

/** The size in bytes of one batch of `count` records as `produce` writes them (same value lengths). */
export function batchBytes(values: string[]): number {
  return encodeRecordBatch({ records: values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: T0 + i })) }).length
}

/** Lets pending promise callbacks run (no clock movement). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; value: () => T | undefined; error: () => unknown } {
  let done = false
  let result: T | undefined
  let failure: unknown
  promise.then(
    (v) => {
      done = true
      result = v
    },
    (e) => {
      done = true
      failure = e
    },
  )
  return { settled: () => done, value: () => result, error: () => failure }
}

/**
 * Fixtures for group tests: a Kafkalite over a MemoryFileSystem and a ManualClock (time moves only when a
 * test says so), records appended straight to partitions, and helpers that drive members' polls.
 */
import { encodeRecordBatch } from '../../src/codec/record-batch'
import type { ConsumerRecord } from '../../src/consumer/types'
import type { EngineConfigInput } from '../../src/config/engine-config'
import { Kafkalite } from '../../src/api/kafkalite'
import { Engine } from '../../src/engine/engine'
import { ConsumerGroup, type ConsumerGroupOptions } from '../../src/group/consumer-group'
import { GroupCoordinator } from '../../src/group/coordinator'
import type { GroupConsumer } from '../../src/group/member'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import type { FileHandle, FileSystem } from '../../src/io/file-system'
import { settle } from '../helpers/async'

export const T0 = 1_700_000_000_000
export const DIR = '/data'

export interface Env {
  kl: Kafkalite
  clock: ManualClock
  fs: MemoryFileSystem
  /** Closes cleanly and opens the directory again (a restart of the host process). */
  reopen(extra?: EngineConfigInput): Promise<Kafkalite>
  /**
   * The host process (or the machine) dies: nothing closes, and a new instance opens what the crash left.
   * The dead instance keeps its clock; the survivor gets a new clock at the same time, so the dead one's
   * timers never fire into a frozen file system.
   */
  crash(kind: 'process' | 'machine', extra?: EngineConfigInput): Promise<Kafkalite>
}

/** Engine settings for tests: no initial rebalance delay, readers see appends at once, short sessions allowed. */
export const TEST_ENGINE: EngineConfigInput = {
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 1000,
  topicDefaults: { durability: 'none' },
}

export async function openEnv(extra: EngineConfigInput = {}): Promise<Env> {
  const open = (more: EngineConfigInput = {}) => Kafkalite.open({ dir: DIR, fs: env.fs, clock: env.clock, ...TEST_ENGINE, ...extra, ...more })
  const env: Env = {
    kl: undefined as unknown as Kafkalite,
    clock: new ManualClock(T0),
    fs: new MemoryFileSystem(),
    reopen: async (more = {}) => {
      await env.kl.close()
      env.kl = await open(more)
      return env.kl
    },
    crash: async (kind, more = {}) => {
      env.fs = kind === 'machine' ? env.fs.crash() : env.fs.processCrash()
      // The dead process's lock file names this (test) process; a real successor would find its pid dead.
      if (env.fs.exists(`${DIR}/.lock`)) env.fs.unlink(`${DIR}/.lock`)
      env.clock = new ManualClock(env.clock.now())
      env.kl = await open(more)
      return env.kl
    },
  }
  env.kl = await open()
  return env
}

/** Appends one batch of string records to a partition; returns the base offset. */
export function produce(kl: Kafkalite, topic: string, partition: number, values: string[], timestamp = T0): number {
  const batch = encodeRecordBatch({ records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: timestamp + i })) })
  return kl.topic(topic).partition(partition).append(batch).baseOffset
}

/** Lets pending promise chains (fsync completions, join outcomes) run. */
export { settle }

/** One poll that does not wait, after letting pending work finish. */
export async function pollNow(member: GroupConsumer, maxRecords?: number): Promise<ConsumerRecord[]> {
  await settle()
  return member.poll({ timeoutMs: 0, ...(maxRecords === undefined ? {} : { maxRecords }) })
}

/** Polls every member (timeout 0) `rounds` times, returning what each got. */
export async function pollAll(members: GroupConsumer[], rounds = 3): Promise<Map<GroupConsumer, ConsumerRecord[]>> {
  const got = new Map<GroupConsumer, ConsumerRecord[]>(members.map((m) => [m, []]))
  for (let r = 0; r < rounds; r++) {
    for (const m of members) got.get(m)!.push(...(await pollNow(m)))
  }
  return got
}

export const values = (records: ConsumerRecord[]) => records.map((r) => r.value!.toString())

export const owned = (member: GroupConsumer) => member.ownedPartitions().map((tp) => `${tp.topic}-${tp.partition}`)

export { expectCode } from '../helpers/errors'

/**
 * The engine and the group coordinator without the Kafkalite wrapper, for tests that need the partition
 * logs themselves (retention removing segments, as the cleaner's retention pass does).
 */
export interface EngineEnv {
  engine: Engine
  coordinator: GroupCoordinator
  clock: ManualClock
  group(groupId: string, options?: ConsumerGroupOptions): ConsumerGroup
  produce(topic: string, partition: number, values: string[], timestamp?: number): number
}

export async function openEngineEnv(extra: EngineConfigInput = {}, fs: FileSystem = new MemoryFileSystem()): Promise<EngineEnv> {
  const clock = new ManualClock(T0)
  const engine = await Engine.open({ dir: DIR, fs, clock, ...TEST_ENGINE, ...extra })
  const coordinator = GroupCoordinator.open(engine)
  return {
    engine,
    coordinator,
    clock,
    group: (groupId, options = {}) => new ConsumerGroup(coordinator, engine, groupId, options),
    produce: (topic, partition, values, timestamp = clock.now()) => {
      const batch = encodeRecordBatch({ records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: timestamp + i })) })
      return engine.log(topic, partition).append(batch).baseOffset
    },
  }
}

/**
 * A MemoryFileSystem whose file fsyncs can be held at a gate: while `hold()` is on, every `sync()` waits
 * until `release()`. Lets a test look at the group while a stored generation is not yet durable.
 */
export class GatedFileSystem extends MemoryFileSystem {
  private gate: Promise<void> | undefined
  private open_: (() => void) | undefined

  hold(): void {
    this.gate = new Promise((resolve) => (this.open_ = resolve))
  }

  release(): void {
    this.open_?.()
    this.gate = undefined
  }

  override open(path: string, mode: 'r' | 'rw'): FileHandle {
    const handle = super.open(path, mode)
    const sync = handle.sync.bind(handle)
    handle.sync = async () => {
      if (this.gate !== undefined) await this.gate
      return sync()
    }
    return handle
  }
}

/**
 * How `Engine.open` reads its options: where the data lives (a directory, or memory), the injected
 * ports, and the engine config keys, all checked before anything touches the disk.
 */
import { resolve as resolvePath, sep } from 'node:path'
import { resolveEngineConfig, type EngineConfig, type EngineConfigInput } from '../config/index'
import { describeValue, InvalidArgumentError } from '../errors/index'
import { SystemClock, type Clock } from '../io/clock'
import { dirname, type FileSystem } from '../io/file-system'
import { MemoryFileSystem } from '../io/memory-fs'
import { NodeFileSystem } from '../io/node-fs'
import { isPlainObject } from './checks'

/** The fixed root of an in-memory data directory. */
export const IN_MEMORY_ROOT = '/kafkalite'

/** Where the data lives: a directory on disk, or memory only (nothing survives `close`). */
export type DataLocation = { dir: string; inMemory?: false } | { inMemory: true; dir?: undefined }

/** Ports injected by tests (or by users who need them): the file system and the clock. */
export interface EnginePorts {
  /** Default: NodeFileSystem for `dir`, a fresh MemoryFileSystem for `inMemory`. */
  fs?: FileSystem
  /** Default: SystemClock (its timers never keep the process alive). */
  clock?: Clock
}

/** `Engine.open` / `Kafkalite.open` options: a location, optional ports, and engine config keys. */
export type EngineOptions = DataLocation & EnginePorts & EngineConfigInput

export interface ResolvedOptions {
  dir: string
  fs: FileSystem
  clock: Clock
  config: Readonly<EngineConfig>
}

export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw new InvalidArgumentError(`open options must be a plain object, got ${describeValue(options)}`)
  const { dir, inMemory, fs, clock, ...configInput } = options as Record<string, unknown>
  const inMemoryMode = inMemory === true
  if (inMemory !== undefined && typeof inMemory !== 'boolean') throw new InvalidArgumentError(`inMemory must be a boolean, got ${describeValue(inMemory)}`)
  if (inMemoryMode && dir !== undefined) throw new InvalidArgumentError('Give either dir or inMemory: true, not both')
  if (!inMemoryMode && (typeof dir !== 'string' || dir.length === 0)) {
    throw new InvalidArgumentError(`open needs a data directory ({ dir: string }) or { inMemory: true }; got dir ${describeValue(dir)}`)
  }
  const config = resolveEngineConfig(configInput as EngineConfigInput)
  const theClock = (clock as Clock | undefined) ?? new SystemClock()
  if (inMemoryMode) return { dir: IN_MEMORY_ROOT, fs: (fs as FileSystem | undefined) ?? new MemoryFileSystem({ clock: theClock }), clock: theClock, config }
  // The port takes absolute '/'-separated paths; a real directory is resolved against the working directory.
  const path = fs === undefined ? resolvePath(dir as string).split(sep).join('/') : (dir as string)
  return { dir: path, fs: (fs as FileSystem | undefined) ?? new NodeFileSystem(), clock: theClock, config }
}

/**
 * mkdir -p, then fsyncs the parent of every directory it created: a new data directory whose own entry
 * is not durable can vanish in a machine crash, with everything later fsynced inside it.
 */
export async function createDirDurably(fs: FileSystem, dir: string): Promise<void> {
  const missing: string[] = []
  for (let d = dir; !fs.exists(d); d = dirname(d)) {
    missing.push(d)
    if (d === '/' || dirname(d) === d) break
  }
  fs.mkdirp(dir)
  for (const d of missing) await fs.syncDir(dirname(d))
}

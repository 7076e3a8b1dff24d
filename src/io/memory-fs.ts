/**
 * The FileSystem port in memory: the library's in-memory mode, and the disk that tests crash and break.
 *
 * It follows POSIX where storage code could notice: directories are explicit and must exist before a
 * file is created in them (ENOENT otherwise); rename is atomic and replaces its target; an open handle
 * keeps reading and writing its inode after the name is renamed or unlinked; closing a handle loses
 * nothing. Durability follows memory-node.ts: file data becomes durable by `sync()`, directory changes
 * (create, mkdir, rename, unlink) by `syncDir()` of the directory that holds them.
 *
 * Crash simulation:
 * - `crash()` returns a new file system holding what a machine crash leaves: durable entries and durable
 *   content, optionally with a seeded random prefix of each file's un-fsynced tail (a torn write).
 * - `processCrash()` returns a new file system holding everything written (the OS outlives the process);
 *   what was not yet durable is still not durable there.
 * - Either call freezes this instance: every later operation, including through handles opened before,
 *   throws SimulatedCrash, so a dead process cannot write. `crash()` and `processCrash()` themselves
 *   still work on a frozen instance, so one stopped state can be examined several ways.
 * - `crashAtOp(n)` freezes the file system at the n-th next mutating operation, which throws SimulatedCrash
 *   and does not take effect. The mutating operations are: write, truncate, sync, syncDir, rename, unlink,
 *   open 'rw' when it creates the file, tryCreateExclusive when it creates the file (its data write is a
 *   second operation), mkdirp and rmrf when they change something, and the steps of writeFileAtomic
 *   (open, truncate, write, sync, rename, syncDir).
 *
 * Model simplifications: an fsync takes effect when it is issued (its promise still resolves later); a
 * failed fsync leaves the durable state as it was (real kernels may also drop the dirty pages, which is
 * why callers must treat a failed fsync as fatal rather than retry it); a directory reached through
 * several durable entries (a rename between directories synced on one side only) survives at each of them.
 */
import { IoError } from '../errors/index'
import type { Clock } from './clock'
import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system'
import { FaultInjector, SimulatedCrash, seededRandom, type Fault, type FaultOp } from './memory-faults'
import { cloneTree, survivingTree } from './memory-crash'
import { DirNode, FileNode, type Node } from './memory-node'
import { readWholeFile, writeFileAtomicWith } from './whole-file'

export { SimulatedCrash, type Fault, type FaultOp } from './memory-faults'

export interface MemoryFileSystemOptions {
  /** Source of modification times; defaults to Date.now. */
  clock?: Pick<Clock, 'now'>
}

export interface MemoryFsStats {
  bytesRead: number
  bytesWritten: number
  reads: number
  writes: number
  /** File fsyncs (`FileHandle.sync`). */
  syncs: number
  /** Directory fsyncs (`syncDir`). */
  dirSyncs: number
}

export interface CrashOptions {
  /** Keep a random-length prefix of each file's un-fsynced tail, as if part of a write reached the disk. */
  tornWrites?: boolean
  /** Seed of the PRNG that chooses the torn lengths (default 0). */
  seed?: number
}

const emptyStats = (): MemoryFsStats => ({ bytesRead: 0, bytesWritten: 0, reads: 0, writes: 0, syncs: 0, dirSyncs: 0 })

/** State shared by a MemoryFileSystem and its handles: liveness, faults, the operation count, statistics. */
class Kernel {
  readonly faults = new FaultInjector()
  stats = emptyStats()
  bytesReadByPath = new Map<string, number>()
  mutations = 0
  crashAt = Infinity
  private frozenReason: string | undefined

  constructor(readonly now: () => number) {}

  checkAlive(): void {
    if (this.frozenReason !== undefined) throw new SimulatedCrash(this.frozenReason)
  }

  freeze(reason: string): void {
    this.frozenReason ??= `${reason}; this MemoryFileSystem belongs to a dead process (use the one crash() or processCrash() returned)`
  }

  /** Counts a mutating operation and stops the world if it is the one chosen by `crashAtOp`. */
  step(): void {
    this.checkAlive()
    this.mutations++
    if (this.mutations === this.crashAt) {
      this.freeze(`simulated crash at mutating operation ${this.mutations}`)
      this.checkAlive()
    }
  }

  /** Throws the injected fault for this call, if one fires. */
  fault(op: Exclude<FaultOp, 'any'>, path: string, ...otherPaths: string[]): void {
    const fault = this.faults.take(op, [path, ...otherPaths])
    if (fault !== undefined) throw new IoError(op, path, fault.errno)
  }
}

class MemoryFileHandle implements FileHandle {
  private closed = false

  constructor(
    private readonly kernel: Kernel,
    readonly path: string,
    private readonly node: FileNode,
    private readonly writable: boolean,
  ) {}

  size(): number {
    this.ensureUsable('stat', false)
    return this.node.length
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.ensureUsable('read', false)
    this.kernel.fault('read', this.path)
    const n = this.node.read(buffer, offset, length, position)
    const { stats } = this.kernel
    stats.reads++
    stats.bytesRead += n
    this.kernel.bytesReadByPath.set(this.path, (this.kernel.bytesReadByPath.get(this.path) ?? 0) + n)
    return n
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.ensureUsable('write', true)
    this.kernel.step()
    const fault = this.kernel.faults.take('write', [this.path])
    const written = fault === undefined ? length : Math.min(length, fault.shortWrite ?? 0)
    if (written > 0) {
      this.node.write(buffer, offset, written, position)
      this.node.mtimeMs = this.kernel.now()
      this.kernel.stats.writes++
      this.kernel.stats.bytesWritten += written
    }
    if (fault !== undefined) throw new IoError('write', this.path, fault.errno)
  }

  truncate(length: number): void {
    this.ensureUsable('truncate', true)
    this.kernel.step()
    this.kernel.fault('truncate', this.path)
    this.node.truncate(length)
    this.node.mtimeMs = this.kernel.now()
  }

  async sync(): Promise<void> {
    this.ensureUsable('sync', false)
    this.kernel.step()
    this.kernel.stats.syncs++
    this.kernel.fault('sync', this.path)
    this.node.sync()
  }

  /** Never throws, even on a crashed file system: close sits in `finally` blocks and changes no data. */
  close(): void {
    this.closed = true
  }

  private ensureUsable(op: string, forWrite: boolean): void {
    this.kernel.checkAlive()
    if (this.closed || (forWrite && !this.writable)) throw new IoError(op, this.path, 'EBADF')
  }
}

export class MemoryFileSystem implements FileSystem {
  readonly kind = 'memory'
  private root: DirNode
  private readonly kernel: Kernel
  private readonly clock: Pick<Clock, 'now'>

  constructor(options: MemoryFileSystemOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() }
    this.kernel = new Kernel(() => this.clock.now())
    this.root = new DirNode(this.clock.now())
    this.root.syncEntries()
  }

  // ---- FileSystem ----

  open(path: string, mode: OpenMode): FileHandle {
    const k = this.kernel
    k.checkAlive()
    const { parent, name, normal } = this.parentOf('open', path)
    let node = parent.entries.get(name)
    if (node === undefined && mode === 'rw') k.step()
    k.fault('open', normal)
    if (node === undefined) {
      if (mode === 'r') throw new IoError('open', normal, 'ENOENT')
      node = new FileNode(new Uint8Array(0), k.now())
      this.link(parent, name, node)
    }
    if (node.kind === 'dir') throw new IoError('open', normal, 'EISDIR')
    return new MemoryFileHandle(k, normal, node, mode === 'rw')
  }

  exists(path: string): boolean {
    this.kernel.checkAlive()
    try {
      return this.lookup('stat', path).node !== undefined
    } catch (e) {
      if (e instanceof IoError) return false
      throw e
    }
  }

  stat(path: string): FileStat {
    this.kernel.checkAlive()
    const node = this.existing('stat', path)
    return { size: node.kind === 'file' ? node.length : 0, isDirectory: node.kind === 'dir', mtimeMs: node.mtimeMs }
  }

  readdir(path: string): string[] {
    this.kernel.checkAlive()
    const node = this.existing('readdir', path)
    if (node.kind !== 'dir') throw new IoError('readdir', normalize('readdir', path), 'ENOTDIR')
    return [...node.entries.keys()].sort()
  }

  mkdirp(path: string): void {
    const k = this.kernel
    k.checkAlive()
    const parts = splitPath('mkdir', path)
    const normal = joinParts(parts)
    let dir = this.root
    let stepped = false
    for (const [i, part] of parts.entries()) {
      const child = dir.entries.get(part)
      if (child?.kind === 'file') throw new IoError('mkdir', normal, i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR')
      if (child !== undefined) {
        dir = child
        continue
      }
      // One step for the whole call, so that crash tests see the same operation count on every run.
      if (!stepped) {
        k.step()
        k.fault('mkdir', normal)
        stepped = true
      }
      const created = new DirNode(k.now())
      this.link(dir, part, created)
      dir = created
    }
  }

  rename(from: string, to: string): void {
    const k = this.kernel
    k.checkAlive()
    k.step()
    const src = this.parentOf('rename', from)
    const dst = this.parentOf('rename', to)
    k.fault('rename', src.normal, dst.normal)
    const node = src.parent.entries.get(src.name)
    if (node === undefined) throw new IoError('rename', src.normal, 'ENOENT')
    const target = dst.parent.entries.get(dst.name)
    if (target === node) return
    if (node.kind === 'dir' && (dst.normal + '/').startsWith(src.normal + '/')) throw new IoError('rename', src.normal, 'EINVAL')
    if (target !== undefined) {
      if (node.kind === 'file' && target.kind === 'dir') throw new IoError('rename', src.normal, 'EISDIR')
      if (node.kind === 'dir' && target.kind === 'file') throw new IoError('rename', src.normal, 'ENOTDIR')
      if (target.kind === 'dir' && target.entries.size > 0) throw new IoError('rename', src.normal, 'ENOTEMPTY')
    }
    this.unlinkEntry(src.parent, src.name)
    this.link(dst.parent, dst.name, node)
  }

  unlink(path: string): void {
    const k = this.kernel
    k.checkAlive()
    k.step()
    const { parent, name, normal } = this.parentOf('unlink', path)
    k.fault('unlink', normal)
    const node = parent.entries.get(name)
    if (node === undefined) throw new IoError('unlink', normal, 'ENOENT')
    if (node.kind === 'dir') throw new IoError('unlink', normal, 'EISDIR')
    this.unlinkEntry(parent, name)
  }

  rmrf(path: string): void {
    const k = this.kernel
    k.checkAlive()
    const parts = splitPath('rmrf', path)
    const normal = joinParts(parts)
    let parent: DirNode | undefined
    if (parts.length > 0) {
      try {
        const found = this.lookup('rmrf', normal)
        if (found.node !== undefined) parent = found.parent
      } catch (e) {
        if (!(e instanceof IoError)) throw e
      }
    }
    if (parts.length > 0 && parent === undefined) return
    if (parts.length === 0 && this.root.entries.size === 0) return
    k.step()
    k.fault('rmrf', normal)
    if (parent === undefined) for (const name of [...this.root.entries.keys()]) this.unlinkEntry(this.root, name)
    else this.unlinkEntry(parent, parts[parts.length - 1]!)
  }

  readFile(path: string): Buffer {
    return readWholeFile(this, path)
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return writeFileAtomicWith(this, path, data)
  }

  tryCreateExclusive(path: string, data: Uint8Array): boolean {
    const k = this.kernel
    k.checkAlive()
    const { parent, name, normal } = this.parentOf('open', path)
    if (parent.entries.has(name)) {
      k.fault('open', normal)
      return false
    }
    const handle = this.open(normal, 'rw')
    try {
      handle.write(data, 0, data.length, 0)
    } finally {
      handle.close()
    }
    return true
  }

  async syncDir(path: string): Promise<void> {
    const k = this.kernel
    k.checkAlive()
    k.step()
    k.stats.dirSyncs++
    const node = this.existing('syncDir', path)
    k.fault('syncDir', normalize('syncDir', path))
    if (node.kind !== 'dir') throw new IoError('syncDir', normalize('syncDir', path), 'ENOTDIR')
    node.syncEntries()
  }

  // ---- crash simulation ----

  /** What a machine crash leaves. Freezes this instance. */
  crash(options: CrashOptions = {}): MemoryFileSystem {
    this.kernel.freeze('the machine crashed')
    const random = options.tornWrites === true ? seededRandom(options.seed ?? 0) : undefined
    const survivor = new MemoryFileSystem({ clock: this.clock })
    survivor.root = survivingTree(this.root, random)
    return survivor
  }

  /** What a process crash leaves: everything written, with durability unchanged. Freezes this instance. */
  processCrash(): MemoryFileSystem {
    this.kernel.freeze('the process crashed')
    const survivor = new MemoryFileSystem({ clock: this.clock })
    survivor.root = cloneTree(this.root)
    return survivor
  }

  /** The n-th next mutating operation (1 = the very next) throws SimulatedCrash and freezes the file system. */
  crashAtOp(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`crashAtOp needs a positive integer, got ${n}`)
    this.kernel.crashAt = this.kernel.mutations + n
  }

  /** Mutating operations performed so far (see the list at the top of this file). */
  opCount(): number {
    return this.kernel.mutations
  }

  // ---- fault injection ----

  /** Makes matching operations fail with IoError(op, path, errno); returns a function that removes the fault. */
  injectFault(fault: Fault): () => void {
    return this.kernel.faults.add(fault)
  }

  clearFaults(): void {
    this.kernel.faults.clear()
  }

  // ---- statistics ----

  stats(): MemoryFsStats {
    return { ...this.kernel.stats }
  }

  resetStats(): void {
    this.kernel.stats = emptyStats()
    this.kernel.bytesReadByPath = new Map()
  }

  /** Bytes read through handles opened on paths that match (all paths when omitted), since the last reset. */
  bytesReadByPath(predicate: (path: string) => boolean = () => true): number {
    let total = 0
    for (const [path, n] of this.kernel.bytesReadByPath) if (predicate(path)) total += n
    return total
  }

  // ---- path resolution ----

  private lookup(op: string, path: string): { node: Node | undefined; parent: DirNode | undefined } {
    const parts = splitPath(op, path)
    let node: Node = this.root
    let parent: DirNode | undefined
    for (let i = 0; i < parts.length; i++) {
      if (node.kind !== 'dir') throw new IoError(op, joinParts(parts), 'ENOTDIR')
      parent = node
      const child: Node | undefined = node.entries.get(parts[i]!)
      if (child === undefined) {
        if (i < parts.length - 1) throw new IoError(op, joinParts(parts), 'ENOENT')
        return { node: undefined, parent }
      }
      node = child
    }
    return { node, parent }
  }

  private existing(op: string, path: string): Node {
    const { node } = this.lookup(op, path)
    if (node === undefined) throw new IoError(op, normalize(op, path), 'ENOENT')
    return node
  }

  /** The directory that holds `path`, which must exist (ENOENT/ENOTDIR as on POSIX). */
  private parentOf(op: string, path: string): { parent: DirNode; name: string; normal: string } {
    const parts = splitPath(op, path)
    const normal = joinParts(parts)
    if (parts.length === 0) throw new IoError(op, normal, 'EISDIR')
    const parentPath = joinParts(parts.slice(0, -1))
    const parent = parts.length === 1 ? this.root : this.lookup(op, parentPath).node
    if (parent === undefined) throw new IoError(op, normal, 'ENOENT')
    if (parent.kind !== 'dir') throw new IoError(op, normal, 'ENOTDIR')
    return { parent, name: parts[parts.length - 1]!, normal }
  }

  private link(dir: DirNode, name: string, node: Node): void {
    dir.entries.set(name, node)
    dir.mtimeMs = this.kernel.now()
  }

  private unlinkEntry(dir: DirNode, name: string): void {
    dir.entries.delete(name)
    dir.mtimeMs = this.kernel.now()
  }
}

function splitPath(op: string, path: string): string[] {
  if (!path.startsWith('/')) throw new IoError(op, path, 'EINVAL')
  const parts: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return parts
}

function joinParts(parts: readonly string[]): string {
  return '/' + parts.join('/')
}

function normalize(op: string, path: string): string {
  return joinParts(splitPath(op, path))
}

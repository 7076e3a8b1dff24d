/**
 * A FileSystem decorator that counts bytes read and written per file suffix, over any implementation.
 * It exists so that claims like "opening a log reads no `.log` data" (Kafka's lazy segment loading) can be
 * asserted on the real disk too, not only on MemoryFileSystem.
 */
import { basename, type FileHandle, type FileStat, type FileSystem, type OpenMode } from './file-system'

/** The suffixes counted separately by default; every other file counts under 'other'. */
export const DEFAULT_COUNTED_SUFFIXES: readonly string[] = ['.log', '.index', '.timeindex', '.txnindex', '.snapshot']

export interface SuffixCounts {
  bytesRead: number
  reads: number
  bytesWritten: number
}

class CountingFileHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly counts: SuffixCounts,
  ) {}

  get path(): string {
    return this.inner.path
  }

  size(): number {
    return this.inner.size()
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = this.inner.read(buffer, offset, length, position)
    this.counts.reads++
    this.counts.bytesRead += n
    return n
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.inner.write(buffer, offset, length, position)
    this.counts.bytesWritten += length
  }

  truncate(length: number): void {
    this.inner.truncate(length)
  }

  sync(): Promise<void> {
    return this.inner.sync()
  }

  close(): void {
    this.inner.close()
  }
}

export class CountingFileSystem implements FileSystem {
  readonly kind: string
  private readonly counts = new Map<string, SuffixCounts>()

  constructor(
    readonly inner: FileSystem,
    private readonly suffixes: readonly string[] = DEFAULT_COUNTED_SUFFIXES,
  ) {
    this.kind = inner.kind
  }

  /** The counter key of a path: the longest configured suffix its name ends with, else 'other'. */
  classify(path: string): string {
    const name = basename(path)
    let best = 'other'
    for (const suffix of this.suffixes) if (name.endsWith(suffix) && (best === 'other' || suffix.length > best.length)) best = suffix
    return best
  }

  /** Bytes read from files with this suffix (or 'other') since the last reset. */
  bytesRead(suffix: string): number {
    return this.counts.get(suffix)?.bytesRead ?? 0
  }

  /** A snapshot of every counter, keyed by suffix. */
  snapshot(): Record<string, SuffixCounts> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]))
  }

  /** Zeroes the counters in place, so handles opened before the reset keep counting into them. */
  reset(): void {
    for (const c of this.counts.values()) Object.assign(c, { bytesRead: 0, reads: 0, bytesWritten: 0 })
  }

  private countsFor(path: string): SuffixCounts {
    const key = this.classify(path)
    let c = this.counts.get(key)
    if (c === undefined) this.counts.set(key, (c = { bytesRead: 0, reads: 0, bytesWritten: 0 }))
    return c
  }

  open(path: string, mode: OpenMode): FileHandle {
    return new CountingFileHandle(this.inner.open(path, mode), this.countsFor(path))
  }

  exists(path: string): boolean {
    return this.inner.exists(path)
  }

  stat(path: string): FileStat {
    return this.inner.stat(path)
  }

  readdir(path: string): string[] {
    return this.inner.readdir(path)
  }

  mkdirp(path: string): void {
    this.inner.mkdirp(path)
  }

  rename(from: string, to: string): void {
    this.inner.rename(from, to)
  }

  unlink(path: string): void {
    this.inner.unlink(path)
  }

  rmrf(path: string): void {
    this.inner.rmrf(path)
  }

  readFile(path: string): Buffer {
    const data = this.inner.readFile(path)
    const c = this.countsFor(path)
    c.reads++
    c.bytesRead += data.length
    return data
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    await this.inner.writeFileAtomic(path, data)
    this.countsFor(path).bytesWritten += data.length
  }

  tryCreateExclusive(path: string, data: Uint8Array): boolean {
    const created = this.inner.tryCreateExclusive(path, data)
    if (created) this.countsFor(path).bytesWritten += data.length
    return created
  }

  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path)
  }
}

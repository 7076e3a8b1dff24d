/**
 * The file-system port. Storage talks only to this interface, so the same code runs on the real disk
 * (NodeFileSystem), in memory (MemoryFileSystem, the library's in-memory mode and the fault injector),
 * and behind decorators that count bytes (CountingFileSystem).
 *
 * Design choices:
 * - Reads, writes and truncation are synchronous. They hit the page cache and cost microseconds; a
 *   Promise per call would cost more than the work, and a synchronous write is what lets `acks: 1`
 *   mean "the bytes are in the OS" the moment `append` returns.
 * - `sync()` (fsync) is asynchronous: it is the one call that waits for the device, and running it off
 *   the main thread is what makes group commit possible (appends continue while an fsync is in flight,
 *   and every append that landed before it started is covered by it).
 * - Paths are absolute, '/'-separated strings. Implementations translate failures into IoError
 *   (ERR_NO_SPACE for ENOSPC, ERR_IO otherwise) with the operation and path; ENOENT on open for read,
 *   stat and unlink is surfaced as IoError with errno 'ENOENT' so callers can test `errno`.
 */
export interface FileHandle {
  readonly path: string
  /** Current length of the file in bytes. */
  size(): number
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the bytes read (short at EOF). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number
  /** Writes all of `buffer[offset..offset+length)` at `position` (a short write throws IoError). */
  write(buffer: Uint8Array, offset: number, length: number, position: number): void
  /** Sets the file length; extends with zeros or cuts the tail. */
  truncate(length: number): void
  /** fsync: resolves once everything written before the call is durable. */
  sync(): Promise<void>
  /** Closes the handle; idempotent. Un-fsynced data stays in the OS (it is not lost by closing). */
  close(): void
}

export type OpenMode =
  /** read only; the file must exist */
  | 'r'
  /** read and write; created if missing, never truncated */
  | 'rw'

export interface FileStat {
  size: number
  isDirectory: boolean
  /** Modification time in ms since the epoch. */
  mtimeMs: number
}

export interface FileSystem {
  /** A short name for messages and test titles ('node', 'memory'). */
  readonly kind: string
  open(path: string, mode: OpenMode): FileHandle
  exists(path: string): boolean
  stat(path: string): FileStat
  /** Entry names (not paths) in a directory, sorted. */
  readdir(path: string): string[]
  /** Creates a directory and its parents; no error if it exists. */
  mkdirp(path: string): void
  /** Atomic rename within the file system; replaces `to` if it exists. */
  rename(from: string, to: string): void
  unlink(path: string): void
  /** Removes a file or a directory tree; no error if missing. */
  rmrf(path: string): void
  /** Whole-file read helper (used for small files: checkpoints, metadata). */
  readFile(path: string): Buffer
  /**
   * Replaces a small file atomically and durably: write `<path>.tmp`, fsync it, rename over `path`,
   * fsync the directory (Kafka's `atomicMoveWithFallback`). After a crash, `path` holds either the
   * old or the new content, never a mix.
   */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>
  /**
   * Creates `path` with `data` only if it does not exist (O_EXCL); returns false if it already exists.
   * This is the primitive under the data-directory lock.
   */
  tryCreateExclusive(path: string, data: Uint8Array): boolean
  /** fsync a directory so that creates, renames and unlinks in it are durable. */
  syncDir(path: string): Promise<void>
}

export function joinPath(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/')
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

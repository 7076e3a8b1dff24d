/**
 * The mechanism shared by `.index` and `.timeindex`: a file of fixed-size entries mirrored by an
 * in-memory buffer that is loaded lazily and can be dropped again (bounded memory for closed segments).
 *
 * Invariants:
 * - The file holds exactly the first `written` entries (`written ≤ entries`); the file is never
 *   preallocated, so no zero-filled tail ever exists.
 * - When loaded, `buffer[0, entries × entrySize)` holds every entry; entries past `written` exist only
 *   there ("pending") until `writePending` writes them with one positional write.
 * Why entries wait: the active segment gets an entry pair every `indexIntervalBytes` of appends, and one
 * `pwrite` per entry cost two system calls per indexed batch on the append path (about 4% of a
 * producer's CPU per record when measured).
 * Pending entries are written when the segment stops being active (roll), before any fsync or rename of
 * the file, and when the index is unloaded or closed, so a clean shutdown leaves complete files. After a
 * crash the file may lack its pending tail: it is still a valid sparse index (a prefix of one), and
 * recovery rebuilds the indexes of every segment from the one holding the recovery point on anyway.
 * Index files are not fsynced on append: they are derived data (see above).
 *
 * Concurrency: called only by the partition's single writer (appends, truncation) or by readers between
 * awaits; every method is synchronous.
 */
import { CorruptRecordError } from '../errors'
import type { FileHandle, FileSystem } from '../io/file-system'

export class IndexCorruptError extends CorruptRecordError {}

export class SparseIndexFile {
  private handle: FileHandle | undefined
  private buffer: Buffer | undefined
  private count = -1
  /** Entries on file; the rest of `count` are pending in `buffer` (-1: unknown until `entries` is read). */
  private written = -1
  private _path: string

  constructor(
    private readonly fs: FileSystem,
    path: string,
    readonly entrySize: number,
    readonly maxEntries: number,
  ) {
    this._path = path
  }

  /** The file's current name (it changes when the segment's files change suffix, see `renameTo`). */
  get path(): string {
    return this._path
  }

  /**
   * Renames the file if it exists (the cleaner's `.cleaned` → `.swap` → live and live → `.deleted`
   * steps). An open handle keeps working across the rename, and later opens use the new name.
   */
  renameTo(path: string): void {
    this.writePending()
    if (this.fs.exists(this._path)) this.fs.rename(this._path, path)
    this._path = path
  }

  /** fsync of the file (normally not needed: indexes are rebuilt on recovery; see the module comment). */
  async sync(): Promise<void> {
    this.writePending()
    await this.open().sync()
  }

  /** Number of entries; reads only the file length, never its content. */
  get entries(): number {
    if (this.count < 0) {
      const size = this.fs.exists(this.path) ? this.fs.stat(this.path).size : 0
      if (size % this.entrySize !== 0) {
        throw new IndexCorruptError(`Index ${this.path} has length ${size}, not a multiple of ${this.entrySize}`)
      }
      this.count = size / this.entrySize
      this.written = this.count
    }
    return this.count
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries
  }

  get sizeInBytes(): number {
    return this.entries * this.entrySize
  }

  /** The entries as a buffer (loads the file on first use). */
  view(): Buffer {
    if (this.buffer === undefined) {
      const n = this.entries
      const capacity = Math.max(64, n) * this.entrySize
      const buf = Buffer.allocUnsafe(capacity)
      if (n > 0) {
        const h = this.open()
        const read = h.read(buf, 0, n * this.entrySize, 0)
        if (read !== n * this.entrySize) throw new IndexCorruptError(`Short read of index ${this.path}`)
      }
      this.buffer = buf
    }
    return this.buffer
  }

  /** Reads one entry straight from the file without loading the whole index (used on open). */
  readEntryFromFile(entry: number): Buffer {
    const out = Buffer.alloc(this.entrySize)
    if (this.buffer !== undefined) {
      this.buffer.copy(out, 0, entry * this.entrySize, (entry + 1) * this.entrySize)
      return out
    }
    this.open().read(out, 0, this.entrySize, entry * this.entrySize)
    return out
  }

  /**
   * Appends one encoded entry to the in-memory copy; the file gets it at the next `writePending` (the
   * caller checks ordering; see OffsetIndex/TimeIndex).
   */
  append(entry: Buffer): void {
    const n = this.entries
    let buf = this.view()
    const at = n * this.entrySize
    if (at + this.entrySize > buf.length) {
      const grown = Buffer.allocUnsafe(buf.length * 2)
      buf.copy(grown, 0, 0, at)
      this.buffer = buf = grown
    }
    entry.copy(buf, at)
    this.count = n + 1
  }

  /** Writes the pending entries to the file with one positional write. */
  writePending(): void {
    if (this.count <= this.written || this.buffer === undefined) return
    const from = this.written * this.entrySize
    const to = this.count * this.entrySize
    this.open().write(this.buffer, from, to - from, from)
    this.written = this.count
  }

  /**
   * Forgets the pending entries without writing them: the file is about to be deleted, and a write
   * that fails then (a full disk) must not stop the deletion.
   */
  discardPending(): void {
    if (this.count > this.written) this.count = this.written
  }

  /**
   * Forgets the entries past `entries` (undoing the index part of a failed append). The count drops at
   * once; the file is cut if it can be, and if it cannot, the stale tail is overwritten by the next
   * append (writes go to `entries × entrySize`) or caught by the sanity check on the next load.
   */
  forgetEntriesAfter(entries: number): void {
    if (this.count < 0 || entries >= this.count) return
    this.count = entries
    if (entries >= this.written) return
    this.written = entries
    try {
      this.open().truncate(entries * this.entrySize)
    } catch {
      // See above.
    }
  }

  /** Keeps the first `entries` entries. */
  truncateEntries(entries: number): void {
    if (entries >= this.entries) return
    if (entries < this.written) {
      this.open().truncate(entries * this.entrySize)
      this.written = entries
    }
    this.count = entries
  }

  /** Drops the in-memory copy and the handle; the next use reloads from the file. */
  unload(): void {
    this.writePending()
    this.buffer = undefined
    this.close()
  }

  close(): void {
    this.writePending()
    this.handle?.close()
    this.handle = undefined
  }

  /** Empties the file (creating it if missing) and forgets everything (used before a rebuild). */
  reset(): void {
    this.buffer = undefined
    this.open().truncate(0)
    this.count = 0
    this.written = 0
  }

  private open(): FileHandle {
    if (this.handle === undefined) this.handle = this.fs.open(this.path, 'rw')
    return this.handle
  }
}

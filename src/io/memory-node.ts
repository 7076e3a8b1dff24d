/**
 * The inodes of MemoryFileSystem and its durability model.
 *
 * A file has two contents: the *current* content (what any reader sees, what a process crash leaves,
 * since the OS still holds it) and the *durable* content (what a machine crash leaves). `sync()` makes the
 * current content durable. A directory likewise has current entries and durable entries; `syncDir` makes
 * the current entries durable. A file's data and its name are made durable separately, as on POSIX: an
 * fsynced file whose directory was never fsynced may vanish in a crash, and an un-synced rename may revert.
 *
 * FileNode invariants:
 * - `data[0, min(length, data.length))` holds the current content; every byte of `data` at or past
 *   `length` is zero, and bytes in `[data.length, length)` are implicit zeros. Extending a file therefore
 *   exposes zeros as POSIX does, and a large truncate-to-extend (an index preallocation) allocates nothing.
 * - The durable content is `durableLength` bytes: the current content cut or zero-padded to that length,
 *   with the `undo` records applied newest first. Each record is the pre-image of bytes below
 *   `durableLength` that a write or truncate changed since the last fsync.
 *
 * Why an undo log instead of a second copy of each file: nearly every write is an append past
 * `durableLength` and records nothing, so the in-memory mode pays no memory for crash simulation and an
 * fsync costs O(1). Overwrites below the durable length cost what they write, until the next fsync.
 */

interface UndoRecord {
  readonly position: number
  readonly bytes: Uint8Array
}

const MIN_CAPACITY = 64

export class FileNode {
  readonly kind = 'file'
  private data: Uint8Array
  length: number
  durableLength: number
  private undo: UndoRecord[]
  mtimeMs: number

  constructor(content: Uint8Array, mtimeMs: number, durable = content.length, undo: UndoRecord[] = []) {
    this.data = content
    this.length = content.length
    this.durableLength = durable
    this.undo = undo
    this.mtimeMs = mtimeMs
  }

  read(target: Uint8Array, offset: number, length: number, position: number): number {
    const end = Math.min(position + length, this.length)
    if (end <= position) return 0
    const stored = Math.min(end, this.data.length)
    if (stored > position) target.set(this.data.subarray(position, stored), offset)
    if (end > stored) target.fill(0, offset + Math.max(0, stored - position), offset + (end - position))
    return end - position
  }

  write(source: Uint8Array, offset: number, length: number, position: number): void {
    const end = position + length
    this.recordUndo(position, Math.min(end, this.length))
    this.ensureCapacity(end)
    this.data.set(source.subarray(offset, offset + length), position)
    if (end > this.length) this.length = end
  }

  truncate(length: number): void {
    if (length < this.length) {
      this.recordUndo(length, this.length)
      this.data.fill(0, Math.min(length, this.data.length), Math.min(this.length, this.data.length))
    }
    this.length = length
  }

  /** fsync: the current content becomes the durable content. */
  sync(): void {
    this.durableLength = this.length
    this.undo = []
  }

  /** A copy of `[from, to)` of the current content, zero-filled past the stored bytes. */
  bytes(from: number, to: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, to - from))
    this.read(out, 0, out.length, from)
    return out
  }

  durableContent(): Uint8Array {
    const out = this.bytes(0, Math.min(this.length, this.durableLength))
    const full = new Uint8Array(this.durableLength)
    full.set(out)
    // Newest first, so that for a byte changed several times the oldest pre-image, the durable one, wins.
    for (let i = this.undo.length - 1; i >= 0; i--) full.set(this.undo[i]!.bytes, this.undo[i]!.position)
    return full
  }

  /** A deep copy with the same current and durable content (undo records are immutable and shared). */
  clone(): FileNode {
    const stored = this.data.slice(0, Math.min(this.length, this.data.length))
    const copy = new FileNode(stored, this.mtimeMs, this.durableLength, [...this.undo])
    copy.length = this.length
    return copy
  }

  private recordUndo(from: number, to: number): void {
    const end = Math.min(to, this.durableLength)
    if (from < end) this.undo.push({ position: from, bytes: this.bytes(from, end) })
  }

  /** Amortised doubling: appending n bytes in small writes copies O(n) bytes in total. */
  private ensureCapacity(needed: number): void {
    if (needed <= this.data.length) return
    const grown = new Uint8Array(Math.max(needed, this.data.length * 2, MIN_CAPACITY))
    grown.set(this.data.subarray(0, Math.min(this.length, this.data.length)))
    this.data = grown
  }
}

export class DirNode {
  readonly kind = 'dir'
  entries = new Map<string, Node>()
  /** The entries a machine crash leaves: a snapshot of `entries` taken by the last `syncDir`. */
  durableEntries = new Map<string, Node>()

  constructor(public mtimeMs: number) {}

  syncEntries(): void {
    this.durableEntries = new Map(this.entries)
  }
}

export type Node = FileNode | DirNode

/**
 * The cleaner's key → last offset map, in a fixed memory budget (Kafka's SkimpyOffsetMap).
 *
 * Layout: one buffer of exactly `memoryBytes` (logCleanerDedupeBufferSize), allocated once and never
 * grown. It is a SharedArrayBuffer although no other thread sees it: V8 counts an ArrayBuffer as
 * external memory, and allocating 128 MiB of it in the middle of appends started a major GC (measured:
 * 10 ms to allocate, then 38 ms of incremental marking in steps up to 16 ms, and two 5–14 ms
 * scavenges); a SharedArrayBuffer of the same size allocates in microseconds and starts no GC. Its
 * pages are untouched, and not resident, until a region uses them.
 *
 * It holds `slots = floor(memoryBytes / 24)` slots of six int32 words:
 *
 *   word  field
 *   0..3  the key's 128-bit digest (key-hash.ts); the key itself is never stored
 *   4     offset, low 32 bits (unsigned)
 *   5     offset, high bits (offsets < 2^53); -1 marks an empty slot
 *
 * Open addressing with linear probing from the digest's first word. The table in use is a region of
 * the buffer that starts small (32 Ki slots, for a budget over 256 Ki slots) and doubles by rehashing
 * as the keys fill it; the next region is placed at the other end of the buffer, so old and new
 * coexist without a byte beyond the budget. A round with few keys therefore touches a few megabytes,
 * not the whole budget: a probe into a 128 MiB table misses the caches and the TLB, and that alone cost
 * a third of the cleaner's time. Doubling stops at an eighth of the slots; the last step jumps to
 * everything the other end leaves (at least 7/8 of the slots), which then fills up to the load factor,
 * as Kafka's whole table does. `maxEntries` is that final region's capacity.
 *
 * Work in slices. Emptying a region (a fill with -1) and rehashing into a larger one are long for a
 * large map (the first touch of fresh memory runs at about 1 GB/s: tens of milliseconds for the last
 * region), longer than an append may wait. So neither happens in `put`: `clear` and a region at half
 * load leave *pending work*, which the compactor runs with `work(due)` in steps of a bounded number of
 * slots, yielding to the event loop between slices (compactor.ts). Only a caller that ignores the
 * pending work gets it done synchronously: `put` finishes what is pending first, and grows at once when
 * a region reaches three quarters (it must keep empty slots for probes to end); `get` never needs to.
 *
 * The map refuses new keys once it holds `maxEntries`; the cleaner then stops the round there and
 * cleans what it mapped (cleaner/compactor.ts), which is how a partition with more keys than the budget
 * is compacted over several rounds without ever growing memory.
 *
 * Capacity is checked up front, when the cleaner is built from its config: a budget that cannot hold
 * even one entry could never make progress, and is an ERR_INVALID_CONFIG naming
 * logCleanerDedupeBufferSize. (A round may stop in the middle of a segment, as in Kafka, so no segment
 * ever has to fit whole.)
 *
 * Concurrency: used by one cleaning round at a time (the manager runs rounds one after another). The
 * pending work is plain state, so a round may await between `work` steps; nothing else touches the
 * map meanwhile.
 */
import { InvalidConfigError } from '../errors/index'
import type { Offset } from '../util/types'
import { murmur3x86128 } from './key-hash'

export const BYTES_PER_ENTRY = 24
const WORDS_PER_SLOT = BYTES_PER_ENTRY / 4
const EMPTY = -1
const TWO_POW_32 = 0x1_0000_0000
const INITIAL_REGION_SLOTS = 32 * 1024
/** A region wants to be rehashed into a larger one once it is this full (while it is not the last). */
const GROW_AT_LOAD = 0.5
/** `put` rehashes synchronously at this load if the pending growth was not worked off. */
const MUST_GROW_AT_LOAD = 0.75
/**
 * Slots per step of pending work, between two `due()` checks. A fill step of 2 Ki slots is 48 KiB
 * (about 50 µs on memory touched for the first time, a few µs after); a rehash step of 2 Ki slots is
 * about 1 Ki probes at half load.
 */
const STEP_SLOTS = 2048

/** Work the map needs before more keys go in. */
type Pending =
  /** Empty the region in use, from `next` on (after `clear`). */
  | { kind: 'fill'; next: number }
  /** Move to the region [start, start + slots): empty it from `filled` on, then rehash the old one from `rehashed` on. */
  | { kind: 'grow'; start: number; slots: number; filled: number; rehashed: number }

export class OffsetMap {
  /** Bytes allocated for the map: exactly the configured budget. */
  readonly memoryBytes: number
  readonly slots: number
  /** How many keys the map takes before it reports itself full. */
  readonly maxEntries: number
  private readonly words: Int32Array
  private readonly digest = new Int32Array(4)
  /** The region in use: slots [regionStart, regionStart + regionSlots). */
  private regionStart = 0
  private regionSlots = 0
  private entries = 0
  private _latestOffset: Offset = -1
  private pending: Pending | undefined

  constructor(memoryBytes: number, loadFactor: number) {
    const { slots, maxEntries } = OffsetMap.capacity(memoryBytes, loadFactor)
    this.memoryBytes = memoryBytes
    this.slots = slots
    this.maxEntries = maxEntries
    this.words = new Int32Array(new SharedArrayBuffer(memoryBytes), 0, slots * WORDS_PER_SLOT)
    this.clear()
  }

  /**
   * The capacity a budget gives, checked without allocating anything (the cleaner checks its config
   * when it is created, long before the first round needs the memory). Throws ERR_INVALID_CONFIG when
   * the budget cannot hold a single key.
   */
  static capacity(memoryBytes: number, loadFactor: number): { slots: number; maxEntries: number } {
    const slots = Math.floor(memoryBytes / BYTES_PER_ENTRY)
    const finalSlots = slots > 0 ? lastRegionSlots(slots) : 0
    // One slot of the region always stays empty, so that a probe for a missing key ends (see `find`).
    const maxEntries = Math.min(Math.floor(finalSlots * loadFactor), finalSlots - 1)
    if (!Number.isSafeInteger(memoryBytes) || !(loadFactor > 0 && loadFactor <= 1) || maxEntries < 1) {
      throw new InvalidConfigError(
        'logCleanerDedupeBufferSize',
        memoryBytes,
        `must hold at least one key at logCleanerIoBufferLoadFactor ${loadFactor} (${BYTES_PER_ENTRY} bytes per slot, one slot always empty, ` +
          `so at least ${Math.max(2 * BYTES_PER_ENTRY, Math.ceil(BYTES_PER_ENTRY / loadFactor))} bytes); the cleaner could never make progress with less`,
        { config: 'engine' },
      )
    }
    return { slots, maxEntries }
  }

  /** Keys in the map. */
  get size(): number {
    return this.entries
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries
  }

  /** The last offset the current round has mapped (a key, or a whole batch): the round ends after it. */
  get latestOffset(): Offset {
    return this._latestOffset
  }

  /** Slots of the region in use (it grows with the keys, up to nearly all slots). */
  get slotsInUse(): number {
    return this.pending?.kind === 'grow' ? this.pending.slots : this.regionSlots
  }

  /** Whether `work` has something to do: the map was cleared, or its region is due to grow. */
  get hasPendingWork(): boolean {
    return this.pending !== undefined || (this.entries >= this.regionSlots * GROW_AT_LOAD && this.canGrow())
  }

  /**
   * Empties the map for a new round. The region is emptied by `work` (or by the next `put`), so this
   * returns at once; a grow in progress is abandoned.
   */
  clear(): void {
    this.regionStart = 0
    this.regionSlots = firstRegionSlots(this.slots)
    this.entries = 0
    this._latestOffset = -1
    this.pending = { kind: 'fill', next: 0 }
  }

  /**
   * Does pending work (see the module comment) in steps of STEP_SLOTS slots until it is done or
   * `due()` says the caller's slice is spent. Returns whether nothing is pending any more. Checks
   * `due()` after each step, so it always makes progress.
   */
  work(due: () => boolean): boolean {
    for (;;) {
      if (this.pending === undefined) {
        if (!this.hasPendingWork) return true
        this.startGrow()
      }
      this.step()
      if (this.pending === undefined && !this.hasPendingWork) return true
      if (due()) return false
    }
  }

  /**
   * Records `offset` as the latest offset of the key `data[start, end)`. Returns false, changing
   * nothing, when the key is new and the map is full.
   */
  put(data: Uint8Array, start: number, end: number, offset: Offset): boolean {
    if (this.pending !== undefined) this.finishPendingWork()
    let slot = this.find(data, start, end)
    const w = this.words
    if (w[slot * WORDS_PER_SLOT + 5] === EMPTY) {
      if (this.entries >= this.maxEntries) return false
      if (this.entries >= this.regionSlots * MUST_GROW_AT_LOAD && this.canGrow()) {
        this.startGrow()
        this.finishPendingWork()
        slot = this.probe()
      }
      const at = slot * WORDS_PER_SLOT
      const d = this.digest
      w[at] = d[0]!
      w[at + 1] = d[1]!
      w[at + 2] = d[2]!
      w[at + 3] = d[3]!
      this.entries++
    }
    const at = slot * WORDS_PER_SLOT
    w[at + 4] = offset % TWO_POW_32
    w[at + 5] = Math.floor(offset / TWO_POW_32)
    this._latestOffset = offset
    return true
  }

  /**
   * The latest offset recorded for the key `data[start, end)`, or -1. Does no pending work: while a
   * region is being emptied the map holds no key yet (`put` finishes that first), and while a grow is
   * in progress the keys are still all in the old region.
   */
  get(data: Uint8Array, start: number, end: number): Offset {
    if (this.pending?.kind === 'fill') return -1
    const at = this.find(data, start, end) * WORDS_PER_SLOT
    const high = this.words[at + 5]!
    return high === EMPTY ? -1 : high * TWO_POW_32 + (this.words[at + 4]! >>> 0)
  }

  /** Marks everything up to `offset` as mapped (a batch whose keys all went in). */
  updateLatestOffset(offset: Offset): void {
    if (offset > this._latestOffset) this._latestOffset = offset
  }

  /** Hashes the key into `digest` and returns its slot (see `probe`). */
  private find(data: Uint8Array, start: number, end: number): number {
    murmur3x86128(data, start, end, 0, this.digest)
    return this.probe()
  }

  /**
   * The slot holding `digest`, or the empty slot where it would go, in the region [first, first +
   * slots) (the region in use by default). Terminates because a region always keeps an empty slot
   * (`maxEntries` < final region slots, and smaller regions grow by three-quarter load).
   */
  private probe(first = this.regionStart, slots = this.regionSlots): number {
    const d = this.digest
    const d0 = d[0]!
    const d1 = d[1]!
    const d2 = d[2]!
    const d3 = d[3]!
    const w = this.words
    const end = first + slots
    // The digest's first word scaled to the region (multiply-shift: no integer division).
    let slot = first + Math.floor(((d0 >>> 0) * slots) / TWO_POW_32)
    for (;;) {
      const at = slot * WORDS_PER_SLOT
      if (w[at + 5] === EMPTY) return slot
      if (w[at] === d0 && w[at + 1] === d1 && w[at + 2] === d2 && w[at + 3] === d3) return slot
      slot = slot + 1 === end ? first : slot + 1
    }
  }

  private canGrow(): boolean {
    return nextRegionSlots(this.regionSlots, this.slots) > this.regionSlots
  }

  /** Plans the move to the next larger region, at the other end of the buffer (see the module comment). */
  private startGrow(): void {
    const slots = nextRegionSlots(this.regionSlots, this.slots)
    const start = this.regionStart === 0 ? this.slots - slots : 0
    this.pending = { kind: 'grow', start, slots, filled: 0, rehashed: this.regionStart }
  }

  private finishPendingWork(): void {
    while (this.pending !== undefined) this.step()
  }

  /** One step of the pending work: at most STEP_SLOTS slots filled or rehashed. */
  private step(): void {
    const p = this.pending!
    const w = this.words
    if (p.kind === 'fill') {
      const to = Math.min(p.next + STEP_SLOTS, this.regionSlots)
      w.fill(EMPTY, (this.regionStart + p.next) * WORDS_PER_SLOT, (this.regionStart + to) * WORDS_PER_SLOT)
      p.next = to
      if (to === this.regionSlots) this.pending = undefined
      return
    }
    if (p.filled < p.slots) {
      const to = Math.min(p.filled + STEP_SLOTS, p.slots)
      w.fill(EMPTY, (p.start + p.filled) * WORDS_PER_SLOT, (p.start + to) * WORDS_PER_SLOT)
      p.filled = to
      return
    }
    // Rehash: `digest` is borrowed for the moved keys and restored (a `put` may be in the middle of
    // using it when it finishes a grow synchronously).
    const saved0 = this.digest[0]!
    const saved1 = this.digest[1]!
    const saved2 = this.digest[2]!
    const saved3 = this.digest[3]!
    const d = this.digest
    const oldEnd = this.regionStart + this.regionSlots
    const to = Math.min(p.rehashed + STEP_SLOTS, oldEnd)
    for (let slot = p.rehashed; slot < to; slot++) {
      const from = slot * WORDS_PER_SLOT
      if (w[from + 5] === EMPTY) continue
      d[0] = w[from]!
      d[1] = w[from + 1]!
      d[2] = w[from + 2]!
      d[3] = w[from + 3]!
      w.copyWithin(this.probe(p.start, p.slots) * WORDS_PER_SLOT, from, from + WORDS_PER_SLOT)
    }
    d[0] = saved0
    d[1] = saved1
    d[2] = saved2
    d[3] = saved3
    p.rehashed = to
    if (to === oldEnd) {
      this.regionStart = p.start
      this.regionSlots = p.slots
      this.pending = undefined
    }
  }
}

/** The region after one of `regionSlots`: double while that stays within an eighth, then the rest. */
function nextRegionSlots(regionSlots: number, slots: number): number {
  return 2 * regionSlots <= slots / 8 ? 2 * regionSlots : slots - regionSlots
}

/** A small map (up to 8 first regions) is one region: it fits the caches anyway. */
function firstRegionSlots(slots: number): number {
  return slots <= 8 * INITIAL_REGION_SLOTS ? slots : INITIAL_REGION_SLOTS
}

/** Slots of the last region a map of `slots` grows to: all of them, or at least 7/8. */
function lastRegionSlots(slots: number): number {
  let region = firstRegionSlots(slots)
  for (;;) {
    const next = nextRegionSlots(region, slots)
    if (next <= region) return region
    region = next
  }
}

/**
 * Fault injection for MemoryFileSystem: errors that the real disk produces (ENOSPC, EIO), raised at the
 * operation and path a test chooses, and the simulated crash that stops a multi-step procedure midway.
 */

/** The operations a fault can target. Names match the `op` of the IoError that NodeFileSystem throws. */
export type FaultOp =
  | 'open'
  | 'read'
  | 'write'
  | 'truncate'
  | 'sync'
  | 'rename'
  | 'unlink'
  | 'syncDir'
  | 'stat'
  | 'readdir'
  | 'mkdir'
  | 'rmrf'
  | 'any'

export interface Fault {
  op: FaultOp
  /** Only paths containing this string (for rename: either path). All paths when omitted. */
  pathIncludes?: string
  errno: 'ENOSPC' | 'EIO'
  /** How many matching calls fail; every matching call until cleared when omitted. */
  times?: number
  /** For writes: write only this many bytes of the buffer, then throw (a disk filling up mid-write). */
  shortWrite?: number
}

/**
 * Thrown by the operation chosen with `crashAtOp`, and by every operation on a file system that has
 * crashed. It deliberately is not a KafkaliteError: code under test must let it through untouched, as
 * nothing runs after a real crash.
 */
export class SimulatedCrash extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SimulatedCrash'
  }
}

interface ActiveFault {
  readonly fault: Fault
  remaining: number
}

export class FaultInjector {
  private active: ActiveFault[] = []

  add(fault: Fault): () => void {
    const entry: ActiveFault = { fault: { ...fault }, remaining: fault.times ?? Infinity }
    this.active.push(entry)
    return () => {
      this.active = this.active.filter((a) => a !== entry)
    }
  }

  clear(): void {
    this.active = []
  }

  /** The first fault that matches this call, consuming one of its `times`; undefined if none fires. */
  take(op: Exclude<FaultOp, 'any'>, paths: readonly string[]): Fault | undefined {
    const entry = this.active.find(
      (a) =>
        (a.fault.op === op || a.fault.op === 'any') &&
        (a.fault.pathIncludes === undefined || paths.some((p) => p.includes(a.fault.pathIncludes!))),
    )
    if (entry === undefined) return undefined
    if (--entry.remaining <= 0) this.active = this.active.filter((a) => a !== entry)
    return entry.fault
  }
}

/** mulberry32: a tiny seeded PRNG, so that a torn-write crash is reproducible from its seed. */
export function seededRandom(seed: number): (bound: number) => number {
  let state = seed >>> 0
  return (bound) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    return Math.floor(unit * bound)
  }
}

/**
 * Deferred deletion of segment files (Kafka's `file.delete.delay.ms`): a segment leaving the log has its
 * files renamed to `<name>.deleted` at once and unlinked `fileDeleteDelayMs` later, on the injected
 * clock. The delay is what Kafka gives a reader that still holds the segment; in kafkalite reads are
 * synchronous, so no read spans the rename, and an open handle survives both the rename and the unlink
 * (POSIX, and MemoryFileSystem). A `.deleted` file left by a crash is removed by recovery (pass 1).
 *
 * Invariants:
 * - Every pending path is unlinked exactly once: when its timer fires, when the same name is about to be
 *   reused (a segment at the same base offset retired again before the delay ran out), or at `flushNow`.
 * - Timer callbacks never throw: a failure is handed to `onError` (the files are then removed by the
 *   next open's recovery).
 *
 * Concurrency: synchronous methods, called from the cleaner's rounds and from clock timers.
 */
import { isKafkaliteError } from '../errors/index'
import type { Clock, TimerHandle } from '../io/clock'
import type { FileSystem } from '../io/file-system'
import { DELETED_SUFFIX } from '../storage/file-names'
import type { LogSegment } from '../storage/segment'

interface Pending {
  paths: string[]
  timer: TimerHandle | undefined
}

export class FileDeleter {
  private readonly pending = new Map<string, Pending>()

  constructor(
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Paths waiting to be unlinked. */
  get pendingPaths(): string[] {
    return [...this.pending.keys()]
  }

  /**
   * Renames a segment that left the log to `.deleted` and schedules the unlink. The segment object is
   * closed: nothing reads a segment once the log has dropped it (reads never await).
   */
  retire(segment: LogSegment, delayMs: number): void {
    this.prepareNames(segment)
    segment.changeFileSuffixes('', DELETED_SUFFIX)
    segment.close()
    this.schedule(segment.files(), delayMs)
  }

  /**
   * Unlinks now any pending file that `segment`'s files would be renamed over (a base offset reused
   * before the delay ran out), so that a rename never replaces a pending file whose timer would then
   * remove the newer one early.
   */
  prepareNames(segment: LogSegment): void {
    for (const path of segment.files()) this.unlinkNow(path + DELETED_SUFFIX)
  }

  /** Schedules the unlink of files already renamed to `.deleted`; 0 unlinks them at once. */
  schedule(paths: string[], delayMs: number): void {
    if (paths.length === 0) return
    if (delayMs <= 0) {
      for (const p of paths) this.unlink(p)
      return
    }
    const entry: Pending = { paths, timer: undefined }
    for (const p of paths) this.pending.set(p, entry)
    entry.timer = this.clock.setTimeout(() => {
      try {
        for (const p of entry.paths) {
          if (this.pending.get(p) === entry) {
            this.pending.delete(p)
            this.unlink(p)
          }
        }
      } catch (e) {
        this.onError(e)
      }
    }, delayMs)
  }

  /** Unlinks every pending file now (the cleaner is stopping; nothing can read them any more). */
  flushNow(): void {
    for (const path of [...this.pending.keys()]) this.unlinkNow(path)
  }

  private unlinkNow(path: string): void {
    const entry = this.pending.get(path)
    if (entry === undefined) return
    this.pending.delete(path)
    if ([...this.pending.values()].every((e) => e !== entry)) entry.timer?.cancel()
    this.unlink(path)
  }

  /** A missing file is fine (recovery or an earlier unlink got there first). */
  private unlink(path: string): void {
    try {
      this.fs.unlink(path)
    } catch (e) {
      if (!isKafkaliteError(e) || (e as { errno?: string }).errno !== 'ENOENT') throw e
    }
  }
}

/**
 * The data-directory lock: one process at a time owns a data directory (Kafka's `.lock` file).
 *
 * Why a lock file that names its holder, rather than flock(2): Node has no flock without a native addon,
 * and the lock must not outlive a crashed holder. An OS lock dies with its process; a file does not, so
 * the file records who holds it (pid, hostname, a per-process instance id) and a later opener decides
 * whether that holder is still alive. The file is created with O_EXCL, so of two processes that start at
 * once exactly one creates it.
 *
 * When `<dir>/.lock` already exists, it is refused (LockedError naming the holder) if:
 * - it was written by this very process (same pid and instance id): a directory opened twice in one
 *   process would have two writers; or
 * - it names this host and a different pid that is alive.
 * Otherwise it is stale and taken over: the pid is dead; or the pid is ours but the instance id is not
 * (a restarted container reuses low pids, often pid 1); or the content is garbage (a crash between the
 * exclusive create and its write leaves an empty file); or it names another host.
 *
 * Known limits. Pid liveness is a heuristic: after a reboot the dead holder's pid may belong to an
 * unrelated process, and the lock is then refused; the error names the pid, so an operator can check and
 * delete the file. A data directory shared between hosts (a network file system) is not supported: a lock
 * naming another host is treated as stale, because the common cause is the same disk under a new hostname
 * (a re-created container), and a lock that can never be taken over would need an operator after every crash.
 */
import { randomUUID } from 'node:crypto'
import { IoError, LockedError } from '../errors/index'
import { joinPath, type FileSystem } from './file-system'

export const LOCK_FILE_NAME = '.lock'

export interface LockHolder {
  pid: number
  hostname: string
  /** Distinguishes this process from an earlier one that had the same pid; defaults to this process's id. */
  instanceId?: string
}

export interface DirectoryLock {
  readonly path: string
  /** Removes the lock file if it is still ours; idempotent. */
  release(): void
}

interface LockRecord {
  pid: number
  hostname: string
  acquiredAt: number
  instanceId?: string
}

/**
 * One id per process, shared through the global object so that two copies of the library loaded in the
 * same process (the ESM and CommonJS builds) agree that they are the same process.
 */
const INSTANCE_KEY = Symbol.for('kafkalite.processInstanceId')
function processInstanceId(): string {
  const g = globalThis as { [INSTANCE_KEY]?: string }
  return (g[INSTANCE_KEY] ??= randomUUID())
}

/** `kill(pid, 0)` delivers nothing and only checks that the process exists; EPERM means it exists. */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Lock files that keep changing hands while we look give up after this many rounds. */
const MAX_ATTEMPTS = 8

export function acquireDirectoryLock(
  fs: FileSystem,
  dir: string,
  holder: LockHolder,
  isAlive: (pid: number) => boolean = processIsAlive,
): DirectoryLock {
  const path = joinPath(dir, LOCK_FILE_NAME)
  const instanceId = holder.instanceId ?? processInstanceId()
  const record: LockRecord = { pid: holder.pid, hostname: holder.hostname, acquiredAt: Date.now(), instanceId }
  const bytes = Buffer.from(JSON.stringify(record))
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (fs.tryCreateExclusive(path, bytes)) return new FileLock(fs, path, bytes)
    const seen = readIfExists(fs, path)
    if (seen === undefined) continue // released between our create and our read
    const live = liveHolder(parseRecord(seen), holder, instanceId, isAlive)
    if (live !== undefined) throw new LockedError(dir, live)
    moveAsideIfUnchanged(fs, path, seen)
  }
  throw new LockedError(dir, `another process (the lock file changed hands ${MAX_ATTEMPTS} times while we tried to take it)`)
}

/** The holder's description if the lock must be respected; undefined if it is stale. */
function liveHolder(seen: LockRecord | undefined, me: LockHolder, myInstanceId: string, isAlive: (pid: number) => boolean): string | undefined {
  if (seen === undefined || seen.hostname !== me.hostname) return undefined
  const description = `pid ${seen.pid} on host ${seen.hostname}`
  if (seen.pid === me.pid) {
    const earlierProcess = seen.instanceId !== undefined && seen.instanceId !== myInstanceId
    return earlierProcess ? undefined : `${description} (this process)`
  }
  return isAlive(seen.pid) ? description : undefined
}

/**
 * Takes a stale lock file out of the way. A plain unlink is not safe: two takers that both read the stale
 * file could each unlink, and the second unlink would delete the lock the first had just created, so both
 * would win. Instead the file is renamed to a private name (rename is atomic, so only one taker gets any
 * given file) and its bytes are compared with what was judged stale. If they differ, another taker
 * replaced the stale file between our read and our rename, and we moved a live lock: it is put back with
 * an exclusive create, byte for byte, so its holder's release() still recognises it. The remaining window
 * (a third process creating the lock in the instant it is away) needs three racing openers.
 */
function moveAsideIfUnchanged(fs: FileSystem, path: string, stale: Buffer): void {
  const aside = `${path}.stale-${randomUUID()}`
  try {
    fs.rename(path, aside)
  } catch (e) {
    if (e instanceof IoError && e.errno === 'ENOENT') return
    throw e
  }
  const moved = fs.readFile(aside)
  if (!moved.equals(stale)) fs.tryCreateExclusive(path, moved)
  fs.unlink(aside)
}

function readIfExists(fs: FileSystem, path: string): Buffer | undefined {
  try {
    return fs.readFile(path)
  } catch (e) {
    if (e instanceof IoError && e.errno === 'ENOENT') return undefined
    throw e
  }
}

/** The record, or undefined for garbage. A pid must be positive: `kill(0, 0)` would probe our own process group. */
function parseRecord(bytes: Buffer): LockRecord | undefined {
  try {
    const r = JSON.parse(bytes.toString('utf8')) as Partial<LockRecord> | null
    if (r === null || typeof r !== 'object') return undefined
    if (!Number.isSafeInteger(r.pid) || r.pid! <= 0 || typeof r.hostname !== 'string') return undefined
    const instanceId = typeof r.instanceId === 'string' ? r.instanceId : undefined
    return { pid: r.pid!, hostname: r.hostname, acquiredAt: Number(r.acquiredAt), ...(instanceId !== undefined && { instanceId }) }
  } catch {
    return undefined
  }
}

class FileLock implements DirectoryLock {
  private released = false

  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly bytes: Buffer,
  ) {}

  release(): void {
    if (this.released) return
    this.released = true
    // Only our own file is removed: if another process judged us dead and took over, the lock is theirs.
    const current = readIfExists(this.fs, this.path)
    if (current !== undefined && current.equals(this.bytes)) this.fs.unlink(this.path)
  }
}

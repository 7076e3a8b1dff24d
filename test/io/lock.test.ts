import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isKafkaliteError } from '../../src/errors/index'
import {
  LOCK_FILE_NAME,
  MemoryFileSystem,
  NodeFileSystem,
  acquireDirectoryLock,
  processIsAlive,
  type FileSystem,
} from '../../src/io/index'

const HOST = 'host-a'
const me = { pid: 100, hostname: HOST, instanceId: 'me' }
const alive = (pids: number[]) => (pid: number) => pids.includes(pid)

function memoryDir(): { fs: MemoryFileSystem; dir: string } {
  const fs = new MemoryFileSystem()
  fs.mkdirp('/data')
  return { fs, dir: '/data' }
}

function lockedBy(run: () => unknown): string {
  try {
    run()
  } catch (e) {
    if (isKafkaliteError(e, 'ERR_LOCKED')) return e.message
    throw e
  }
  throw new Error('expected ERR_LOCKED')
}

function holderOf(fs: FileSystem, dir: string): { pid: number; hostname: string } {
  return JSON.parse(fs.readFile(`${dir}/${LOCK_FILE_NAME}`).toString('utf8')) as { pid: number; hostname: string }
}

describe('acquireDirectoryLock', () => {
  it('refuses a second acquire by the same process, naming the holder', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, me, alive([100]))
    expect(lockedBy(() => acquireDirectoryLock(fs, dir, me, alive([100])))).toContain('pid 100 on host host-a')
  })

  it('refuses when another live process on this host holds the lock', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, { pid: 200, hostname: HOST }, alive([100, 200]))
    expect(lockedBy(() => acquireDirectoryLock(fs, dir, me, alive([100, 200])))).toContain('pid 200 on host host-a')
  })

  it('takes over a lock whose holder died', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, { pid: 200, hostname: HOST }, alive([200]))
    const lock = acquireDirectoryLock(fs, dir, me, alive([100]))
    expect(holderOf(fs, dir).pid).toBe(100)
    expect(fs.readdir(dir)).toEqual([LOCK_FILE_NAME])
    lock.release()
  })

  it('takes over a lock left by an earlier process with our own pid (a restarted container)', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, { pid: 1, hostname: HOST, instanceId: 'before-restart' }, alive([1]))
    acquireDirectoryLock(fs, dir, { pid: 1, hostname: HOST, instanceId: 'after-restart' }, alive([1]))
    expect(holderOf(fs, dir)).toMatchObject({ pid: 1 })
  })

  it.each([
    ['empty (a crash between create and write)', ''],
    ['not JSON', '{"pid": 12'],
    ['pid 0, which kill() would treat as our process group', '{"pid":0,"hostname":"host-a"}'],
    ['no hostname', '{"pid":200}'],
  ])('takes over a lock file that is garbage: %s', (_what, content) => {
    const { fs, dir } = memoryDir()
    fs.tryCreateExclusive(`${dir}/${LOCK_FILE_NAME}`, Buffer.from(content))
    acquireDirectoryLock(fs, dir, me, () => true)
    expect(holderOf(fs, dir).pid).toBe(100)
  })

  it('takes over a lock naming another host', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, { pid: 200, hostname: 'old-container' }, () => true)
    acquireDirectoryLock(fs, dir, me, () => true)
    expect(holderOf(fs, dir).hostname).toBe(HOST)
  })

  it('release removes the lock, is idempotent, and lets the directory be locked again', () => {
    const { fs, dir } = memoryDir()
    const lock = acquireDirectoryLock(fs, dir, me, alive([100]))
    lock.release()
    lock.release()
    expect(fs.exists(`${dir}/${LOCK_FILE_NAME}`)).toBe(false)
    acquireDirectoryLock(fs, dir, me, alive([100])).release()
  })

  it('release leaves alone a lock that another process has taken over', () => {
    const { fs, dir } = memoryDir()
    const stale = acquireDirectoryLock(fs, dir, { pid: 200, hostname: HOST }, alive([]))
    acquireDirectoryLock(fs, dir, me, alive([100]))
    stale.release()
    expect(holderOf(fs, dir).pid).toBe(100)
  })

  it('of two processes taking over the same stale lock, exactly one wins', () => {
    const { fs, dir } = memoryDir()
    acquireDirectoryLock(fs, dir, { pid: 200, hostname: HOST }, alive([200]))
    const isAlive = alive([100, 300])
    // Process 300 completes its takeover in the instant after process 100 has read the stale lock and
    // before 100 moves it aside, the interleaving that defeats a plain unlink-and-create.
    let raced = false
    const racing: FileSystem = Object.create(fs, {
      rename: {
        value: (from: string, to: string) => {
          if (!raced) {
            raced = true
            acquireDirectoryLock(fs, dir, { pid: 300, hostname: HOST }, isAlive)
          }
          fs.rename(from, to)
        },
      },
    }) as FileSystem
    expect(lockedBy(() => acquireDirectoryLock(racing, dir, me, isAlive))).toContain('pid 300')
    expect(holderOf(fs, dir).pid).toBe(300)
    expect(fs.readdir(dir)).toEqual([LOCK_FILE_NAME])
  })

  it('survives a machine crash: a lock file left behind is taken over after restart', async () => {
    const { fs, dir } = memoryDir()
    await fs.syncDir('/')
    acquireDirectoryLock(fs, dir, { pid: 200, hostname: HOST }, alive([200]))
    await fs.syncDir(dir)
    const restarted = fs.crash()
    expect(restarted.exists(`${dir}/${LOCK_FILE_NAME}`)).toBe(true)
    acquireDirectoryLock(restarted, dir, me, alive([100]))
    expect(holderOf(restarted, dir).pid).toBe(100)
  })
})

describe('acquireDirectoryLock across real processes', () => {
  let dir: string
  let child: ChildProcess | undefined
  afterEach(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses while the holding process lives and takes over once it is killed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kafkalite-lock-'))
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    const pid = child.pid!
    writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid, hostname: hostname(), acquiredAt: Date.now() }))
    const fs = new NodeFileSystem()
    const self = { pid: process.pid, hostname: hostname() }

    expect(processIsAlive(pid)).toBe(true)
    expect(lockedBy(() => acquireDirectoryLock(fs, dir, self))).toContain(`pid ${pid} on host ${hostname()}`)

    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    expect(processIsAlive(pid)).toBe(false)

    const lock = acquireDirectoryLock(fs, dir, self)
    expect(holderOf(fs, dir).pid).toBe(process.pid)
    expect(lockedBy(() => acquireDirectoryLock(fs, dir, self))).toContain('this process')
    lock.release()
    expect(fs.readdir(dir)).toEqual([])
  })
})

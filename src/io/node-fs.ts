/**
 * The FileSystem port over the real disk, using node:fs synchronous calls for everything except fsync.
 *
 * Concurrency contract: reads, writes and truncation run on the calling thread and return when the OS
 * has the bytes. `sync()` and `syncDir()` run `fsync` on the libuv thread pool, so the main thread keeps
 * appending while the device works; an fsync covers every write that returned before it was issued
 * (this is what group commit relies on).
 *
 * Every Node error is translated here, at the boundary, into IoError(op, path, errno): ENOSPC becomes
 * ERR_NO_SPACE, everything else ERR_IO. Errors that carry no errno are our own bugs and pass unchanged.
 */
import * as nodeFs from 'node:fs'
import { IoError } from '../errors/index'
import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system'
import { readWholeFile, writeFileAtomicWith } from './whole-file'

const { O_CREAT, O_RDONLY, O_RDWR } = nodeFs.constants

function translate(op: string, path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? new IoError(op, path, code, e) : e
}

function fsyncAsync(op: string, path: string, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    nodeFs.fsync(fd, (e) => (e === null ? resolve() : reject(translate(op, path, e))))
  })
}

class NodeFileHandle implements FileHandle {
  private closed = false
  private syncsInFlight = 0

  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  size(): number {
    this.ensureOpen('stat')
    try {
      return nodeFs.fstatSync(this.fd).size
    } catch (e) {
      throw translate('stat', this.path, e)
    }
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.ensureOpen('read')
    // pread may return fewer bytes than asked before EOF (rarely, for regular files); the port promises
    // that a read is short only at EOF, so loop until the request is filled or a read returns 0.
    let done = 0
    try {
      while (done < length) {
        const n = nodeFs.readSync(this.fd, buffer, offset + done, length - done, position + done)
        if (n === 0) break
        done += n
      }
    } catch (e) {
      throw translate('read', this.path, e)
    }
    return done
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.ensureOpen('write')
    // pwrite may write part of the buffer (a disk filling up returns a short count first and ENOSPC on the
    // next call), so loop; the error then leaves exactly the written prefix in the file.
    let done = 0
    try {
      while (done < length) done += nodeFs.writeSync(this.fd, buffer, offset + done, length - done, position + done)
    } catch (e) {
      throw translate('write', this.path, e)
    }
  }

  truncate(length: number): void {
    this.ensureOpen('truncate')
    try {
      nodeFs.ftruncateSync(this.fd, length)
    } catch (e) {
      throw translate('truncate', this.path, e)
    }
  }

  async sync(): Promise<void> {
    this.ensureOpen('sync')
    this.syncsInFlight++
    try {
      await fsyncAsync('sync', this.path, this.fd)
    } finally {
      this.syncsInFlight--
      if (this.closed && this.syncsInFlight === 0) this.closeFd()
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    // The kernel reuses fd numbers at once. Closing under an in-flight fsync could let that fsync run
    // against an unrelated file opened in the meantime, so the descriptor is closed when the last one ends.
    if (this.syncsInFlight === 0) this.closeFd()
  }

  private closeFd(): void {
    try {
      nodeFs.closeSync(this.fd)
    } catch {
      // close(2) errors after a successful fsync carry no information we could act on; the port makes
      // close infallible so that it can sit in `finally` blocks.
    }
  }

  private ensureOpen(op: string): void {
    // A closed descriptor number may already belong to another file; never pass it to the kernel.
    if (this.closed) throw new IoError(op, this.path, 'EBADF')
  }
}

export class NodeFileSystem implements FileSystem {
  readonly kind = 'node'

  open(path: string, mode: OpenMode): FileHandle {
    try {
      return new NodeFileHandle(path, nodeFs.openSync(path, mode === 'r' ? O_RDONLY : O_RDWR | O_CREAT))
    } catch (e) {
      throw translate('open', path, e)
    }
  }

  exists(path: string): boolean {
    return nodeFs.existsSync(path)
  }

  stat(path: string): FileStat {
    try {
      const s = nodeFs.statSync(path)
      return { size: s.size, isDirectory: s.isDirectory(), mtimeMs: s.mtimeMs }
    } catch (e) {
      throw translate('stat', path, e)
    }
  }

  readdir(path: string): string[] {
    try {
      return nodeFs.readdirSync(path).sort()
    } catch (e) {
      throw translate('readdir', path, e)
    }
  }

  mkdirp(path: string): void {
    try {
      nodeFs.mkdirSync(path, { recursive: true })
    } catch (e) {
      throw translate('mkdir', path, e)
    }
  }

  rename(from: string, to: string): void {
    try {
      nodeFs.renameSync(from, to)
    } catch (e) {
      throw translate('rename', from, e)
    }
  }

  unlink(path: string): void {
    try {
      nodeFs.unlinkSync(path)
    } catch (e) {
      throw translate('unlink', path, e)
    }
  }

  rmrf(path: string): void {
    try {
      nodeFs.rmSync(path, { recursive: true, force: true })
    } catch (e) {
      throw translate('rmrf', path, e)
    }
  }

  readFile(path: string): Buffer {
    return readWholeFile(this, path)
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return writeFileAtomicWith(this, path, data)
  }

  tryCreateExclusive(path: string, data: Uint8Array): boolean {
    let handle: NodeFileHandle
    try {
      handle = new NodeFileHandle(path, nodeFs.openSync(path, 'wx'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw translate('open', path, e)
    }
    try {
      handle.write(data, 0, data.length, 0)
    } finally {
      handle.close()
    }
    return true
  }

  async syncDir(path: string): Promise<void> {
    // Windows cannot open a directory for fsync; NTFS journals directory changes itself.
    if (process.platform === 'win32') return
    let fd: number
    try {
      fd = nodeFs.openSync(path, O_RDONLY)
    } catch (e) {
      throw translate('syncDir', path, e)
    }
    try {
      await fsyncAsync('syncDir', path, fd)
    } finally {
      nodeFs.closeSync(fd)
    }
  }
}

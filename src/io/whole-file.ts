/**
 * Whole-file helpers written once over the FileSystem port, so that every implementation follows the
 * same steps (and MemoryFileSystem's crash tests exercise exactly the steps the real disk sees).
 */
import { dirname, type FileHandle, type FileSystem } from './file-system'

/** Reads a whole file through a handle. The size is taken once; a concurrent append is not waited for. */
export function readWholeFile(fs: FileSystem, path: string): Buffer {
  const handle = fs.open(path, 'r')
  try {
    const size = handle.size()
    const buffer = Buffer.alloc(size)
    let filled = 0
    while (filled < size) {
      const n = handle.read(buffer, filled, size - filled, filled)
      if (n === 0) break
      filled += n
    }
    return filled === size ? buffer : buffer.subarray(0, filled)
  } finally {
    handle.close()
  }
}

/**
 * Kafka's `atomicMoveWithFallback` protocol: write `<path>.tmp`, fsync it, rename it over `path`, fsync the
 * directory. The file fsync must come before the rename: otherwise a crash can leave `path` renamed but
 * empty. The directory fsync makes the rename itself durable. A `.tmp` left by a crash is harmless: the
 * next call truncates it.
 */
export async function writeFileAtomicWith(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`
  const handle: FileHandle = fs.open(tmp, 'rw')
  try {
    handle.truncate(0)
    handle.write(data, 0, data.length, 0)
    await handle.sync()
  } finally {
    handle.close()
  }
  fs.rename(tmp, path)
  await fs.syncDir(dirname(path))
}

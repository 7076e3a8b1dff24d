/** Fixtures for engine and api tests: directories on both file systems, batches, tree snapshots, error checks. */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { joinPath, type FileSystem } from '../../src/io/file-system'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { NodeFileSystem } from '../../src/io/node-fs'

export interface DirUnderTest {
  name: string
  /** A fresh, empty data directory location with its file system (the same fs serves reopens). */
  make: () => { fs: FileSystem; dir: string; cleanup: () => void }
}

export const DIRS: DirUnderTest[] = [
  { name: 'memory', make: () => ({ fs: new MemoryFileSystem(), dir: '/data', cleanup: () => {} }) },
  {
    name: 'node',
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kafkalite-engine-'))
      return { fs: new NodeFileSystem(), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
]

export const T0 = 1_700_000_000_000

export function manualClock(): ManualClock {
  return new ManualClock(T0)
}

/** One uncompressed batch of string records with keys k0, k1, ... and timestamps ts, ts+1, ... */
export function batchOf(values: string[], timestamp = T0): Buffer {
  return encodeRecordBatch({
    records: values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: timestamp + i })),
  })
}

/** Every file under `dir` with a hash of its content, and every directory, sorted: equal trees, equal lists. */
export function snapshotTree(fs: FileSystem, dir: string): string[] {
  const out: string[] = []
  const walk = (path: string, rel: string): void => {
    for (const name of fs.readdir(path)) {
      const child = joinPath(path, name)
      const childRel = rel === '' ? name : `${rel}/${name}`
      if (fs.stat(child).isDirectory) {
        out.push(`${childRel}/`)
        walk(child, childRel)
      } else {
        out.push(`${childRel} ${createHash('sha256').update(fs.readFile(child)).digest('hex').slice(0, 16)}`)
      }
    }
  }
  walk(dir, '')
  return out.sort()
}

export { expectCode, expectSyncCode } from '../helpers/errors'

/**
 * One contract for every FileSystem implementation: storage code may rely on exactly what passes here
 * on the real disk and in memory alike.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isKafkaliteError } from '../../src/errors/index'
import { CountingFileSystem, MemoryFileSystem, NodeFileSystem, type FileSystem } from '../../src/io/index'

interface Fixture {
  fs: FileSystem
  root: string
  dispose(): void
}

const implementations: Array<[string, () => Fixture]> = [
  [
    'node',
    () => {
      const root = mkdtempSync(join(tmpdir(), 'kafkalite-io-'))
      return { fs: new NodeFileSystem(), root, dispose: () => rmSync(root, { recursive: true, force: true }) }
    },
  ],
  [
    'memory',
    () => {
      const fs = new MemoryFileSystem()
      fs.mkdirp('/tmp/kafkalite-io')
      return { fs, root: '/tmp/kafkalite-io', dispose: () => {} }
    },
  ],
  [
    'counting(memory)',
    () => {
      const fs = new CountingFileSystem(new MemoryFileSystem())
      fs.mkdirp('/data')
      return { fs, root: '/data', dispose: () => {} }
    },
  ],
]

const bytes = (s: string) => Buffer.from(s, 'utf8')
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected an error')
}

describe.each(implementations)('FileSystem contract (%s)', (_name, create) => {
  let fixture: Fixture
  let fs: FileSystem
  let root: string
  beforeEach(() => {
    fixture = create()
    fs = fixture.fs
    root = fixture.root
  })
  afterEach(() => fixture.dispose())

  function writeFile(path: string, content: string) {
    const h = fs.open(path, 'rw')
    h.write(bytes(content), 0, Buffer.byteLength(content), 0)
    h.close()
  }

  describe('handles', () => {
    it('reads back what was written at a position', () => {
      const h = fs.open(`${root}/a`, 'rw')
      h.write(bytes('hello world'), 0, 11, 0)
      h.write(bytes('XXWORLDXX'), 2, 5, 6)
      const out = Buffer.alloc(11)
      expect(h.read(out, 0, 11, 0)).toBe(11)
      expect(text(out)).toBe('hello WORLD')
      const part = Buffer.alloc(8).fill('.')
      expect(h.read(part, 2, 3, 4)).toBe(3)
      expect(text(part)).toBe('..o W...')
      h.close()
    })

    it('returns a short read at end of file and 0 past it', () => {
      writeFile(`${root}/a`, 'abcdef')
      const h = fs.open(`${root}/a`, 'r')
      const out = Buffer.alloc(10)
      expect(h.read(out, 0, 10, 4)).toBe(2)
      expect(text(out.subarray(0, 2))).toBe('ef')
      expect(h.read(out, 0, 10, 6)).toBe(0)
      expect(h.read(out, 0, 10, 100)).toBe(0)
      h.close()
    })

    it('a write past the end extends the file with zeros in the gap', () => {
      const h = fs.open(`${root}/a`, 'rw')
      h.write(bytes('ab'), 0, 2, 0)
      h.write(bytes('z'), 0, 1, 5)
      expect(h.size()).toBe(6)
      const out = Buffer.alloc(6)
      h.read(out, 0, 6, 0)
      expect([...out]).toEqual([0x61, 0x62, 0, 0, 0, 0x7a])
      h.close()
    })

    it('truncate cuts the tail and extends with zeros', () => {
      const h = fs.open(`${root}/a`, 'rw')
      h.write(bytes('abcdef'), 0, 6, 0)
      h.truncate(3)
      expect(h.size()).toBe(3)
      h.truncate(5)
      expect(h.size()).toBe(5)
      const out = Buffer.alloc(5)
      expect(h.read(out, 0, 5, 0)).toBe(5)
      expect([...out]).toEqual([0x61, 0x62, 0x63, 0, 0])
      expect(fs.stat(`${root}/a`).size).toBe(5)
      h.close()
    })

    it("'rw' creates a missing file and never truncates an existing one", () => {
      writeFile(`${root}/a`, 'keep me')
      const h = fs.open(`${root}/a`, 'rw')
      expect(h.size()).toBe(7)
      h.close()
      const created = fs.open(`${root}/new`, 'rw')
      expect(created.size()).toBe(0)
      created.close()
      expect(fs.exists(`${root}/new`)).toBe(true)
    })

    it('sync resolves, and close is idempotent', async () => {
      const h = fs.open(`${root}/a`, 'rw')
      h.write(bytes('x'), 0, 1, 0)
      await expect(h.sync()).resolves.toBeUndefined()
      h.close()
      h.close()
    })

    it('a closed handle refuses reads and writes with EBADF', () => {
      const h = fs.open(`${root}/a`, 'rw')
      h.close()
      const e = catchError(() => h.write(bytes('x'), 0, 1, 0))
      expect(isKafkaliteError(e, 'ERR_IO')).toBe(true)
      expect((e as { errno: string }).errno).toBe('EBADF')
    })

    it('a read-only handle refuses writes', () => {
      writeFile(`${root}/a`, 'x')
      const h = fs.open(`${root}/a`, 'r')
      expect(() => h.write(bytes('y'), 0, 1, 0)).toThrow()
      h.close()
    })

    it('an open handle keeps working on the file after a rename and after an unlink', () => {
      writeFile(`${root}/a`, 'one')
      const h = fs.open(`${root}/a`, 'rw')
      fs.rename(`${root}/a`, `${root}/b`)
      h.write(bytes('two'), 0, 3, 3)
      expect(text(fs.readFile(`${root}/b`))).toBe('onetwo')
      fs.unlink(`${root}/b`)
      const out = Buffer.alloc(6)
      expect(h.read(out, 0, 6, 0)).toBe(6)
      expect(text(out)).toBe('onetwo')
      h.close()
    })
  })

  describe('names', () => {
    it('rename replaces an existing target atomically', () => {
      writeFile(`${root}/a`, 'new')
      writeFile(`${root}/b`, 'old content')
      fs.rename(`${root}/a`, `${root}/b`)
      expect(fs.exists(`${root}/a`)).toBe(false)
      expect(text(fs.readFile(`${root}/b`))).toBe('new')
    })

    it('readdir lists entry names sorted', () => {
      for (const name of ['00000000000000000010.log', 'b', '00000000000000000000.log', 'a.index']) writeFile(`${root}/${name}`, '')
      fs.mkdirp(`${root}/topic-0`)
      expect(fs.readdir(root)).toEqual(['00000000000000000000.log', '00000000000000000010.log', 'a.index', 'b', 'topic-0'])
    })

    it('mkdirp creates parents and is idempotent', () => {
      fs.mkdirp(`${root}/x/y/z`)
      fs.mkdirp(`${root}/x/y/z`)
      fs.mkdirp(`${root}/x`)
      expect(fs.stat(`${root}/x/y/z`).isDirectory).toBe(true)
      expect(fs.readdir(`${root}/x`)).toEqual(['y'])
    })

    it('rmrf removes a tree and ignores a missing path', () => {
      fs.mkdirp(`${root}/t/p-0`)
      writeFile(`${root}/t/p-0/f`, 'data')
      writeFile(`${root}/t/g`, 'data')
      fs.rmrf(`${root}/t`)
      expect(fs.exists(`${root}/t`)).toBe(false)
      fs.rmrf(`${root}/t`)
      fs.rmrf(`${root}/missing/deeper`)
      writeFile(`${root}/file`, 'x')
      fs.rmrf(`${root}/file`)
      expect(fs.readdir(root)).toEqual([])
    })

    it('stat reports size, kind and modification time', () => {
      const before = Date.now()
      writeFile(`${root}/a`, 'abc')
      const s = fs.stat(`${root}/a`)
      expect(s.size).toBe(3)
      expect(s.isDirectory).toBe(false)
      expect(s.mtimeMs).toBeGreaterThanOrEqual(before - 1000)
      expect(fs.stat(root).isDirectory).toBe(true)
    })

    it('duplicate slashes name the same file', () => {
      writeFile(`${root}//a`, 'x')
      expect(fs.exists(`${root}/a`)).toBe(true)
    })
  })

  describe('whole files', () => {
    it('writeFileAtomic creates and replaces a file and leaves no temporary file', async () => {
      await fs.writeFileAtomic(`${root}/checkpoint`, bytes('v1'))
      await fs.writeFileAtomic(`${root}/checkpoint`, bytes('version 2'))
      await fs.writeFileAtomic(`${root}/checkpoint`, bytes('v3'))
      expect(text(fs.readFile(`${root}/checkpoint`))).toBe('v3')
      expect(fs.readdir(root)).toEqual(['checkpoint'])
    })

    it('tryCreateExclusive creates once and then returns false without touching the file', () => {
      expect(fs.tryCreateExclusive(`${root}/.lock`, bytes('first'))).toBe(true)
      expect(fs.tryCreateExclusive(`${root}/.lock`, bytes('second'))).toBe(false)
      expect(text(fs.readFile(`${root}/.lock`))).toBe('first')
    })

    it('readFile reads an empty file', () => {
      writeFile(`${root}/empty`, '')
      expect(fs.readFile(`${root}/empty`).length).toBe(0)
    })

    it('syncDir resolves on an existing directory', async () => {
      await expect(fs.syncDir(root)).resolves.toBeUndefined()
    })
  })

  describe('errors', () => {
    it.each([
      ['open for read', (f: FileSystem, r: string) => f.open(`${r}/missing`, 'r')],
      ['open in a missing directory', (f: FileSystem, r: string) => f.open(`${r}/no/such`, 'rw')],
      ['stat', (f: FileSystem, r: string) => f.stat(`${r}/missing`)],
      ['unlink', (f: FileSystem, r: string) => f.unlink(`${r}/missing`)],
      ['readdir', (f: FileSystem, r: string) => f.readdir(`${r}/missing`)],
      ['readFile', (f: FileSystem, r: string) => f.readFile(`${r}/missing`)],
      ['rename', (f: FileSystem, r: string) => f.rename(`${r}/missing`, `${r}/b`)],
      ['tryCreateExclusive in a missing directory', (f: FileSystem, r: string) => f.tryCreateExclusive(`${r}/no/such`, bytes('x'))],
    ])('%s of a missing path throws IoError with errno ENOENT', (_op, run) => {
      const e = catchError(() => run(fs, root))
      expect(isKafkaliteError(e, 'ERR_IO')).toBe(true)
      expect((e as { errno: string }).errno).toBe('ENOENT')
      expect((e as Error).message).toContain(root)
    })

    it('syncDir of a missing directory rejects with ENOENT', async () => {
      await expect(fs.syncDir(`${root}/missing`)).rejects.toMatchObject({ code: 'ERR_IO', errno: 'ENOENT' })
    })

    it('exists is false for a missing path, including under a missing directory', () => {
      expect(fs.exists(`${root}/missing`)).toBe(false)
      expect(fs.exists(`${root}/missing/deeper`)).toBe(false)
    })
  })
})

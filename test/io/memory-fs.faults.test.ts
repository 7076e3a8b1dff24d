/**
 * MemoryFileSystem as a fault injector. Invariants checked:
 * - a machine crash keeps exactly the durable state: fsynced file content under dir-synced names;
 * - torn writes keep a prefix of the un-fsynced tail, never other bytes, reproducibly from the seed;
 * - a process crash keeps everything written, and leaves its durability unchanged;
 * - an injected error is an IoError like the real one, and leaves the file as a real disk would;
 * - crashAtOp stops the world at exactly the chosen mutating operation.
 */
import { describe, expect, it } from 'vitest'
import { MemoryFileSystem, SimulatedCrash, type FileSystem } from '../../src/io/index'

const bytes = (s: string) => Buffer.from(s, 'utf8')
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')

/** A file system with a durable directory `/d`. */
async function withDurableDir(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem()
  fs.mkdirp('/d')
  await fs.syncDir('/')
  return fs
}

function append(fs: FileSystem, path: string, content: string): void {
  const h = fs.open(path, 'rw')
  h.write(bytes(content), 0, Buffer.byteLength(content), h.size())
  h.close()
}

describe('MemoryFileSystem > crash()', () => {
  it('loses un-fsynced data and keeps fsynced data', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/a.log', 'rw')
    await fs.syncDir('/d')
    h.write(bytes('durable|'), 0, 8, 0)
    await h.sync()
    h.write(bytes('lost'), 0, 4, 8)
    const after = fs.crash()
    expect(text(after.readFile('/d/a.log'))).toBe('durable|')
  })

  it('reverts an un-fsynced overwrite and an un-fsynced truncation to the durable bytes', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/a', 'rw')
    await fs.syncDir('/d')
    h.write(bytes('0123456789'), 0, 10, 0)
    await h.sync()
    h.write(bytes('AB'), 0, 2, 2)
    h.truncate(4)
    h.write(bytes('CD'), 0, 2, 6)
    expect(text(fs.readFile('/d/a'))).toBe('01AB\0\0CD')
    expect(text(fs.crash().readFile('/d/a'))).toBe('0123456789')
  })

  it('a created file vanishes unless its directory was synced, even if the file was fsynced', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/new', 'rw')
    h.write(bytes('x'), 0, 1, 0)
    await h.sync()
    expect(fs.crash().exists('/d/new')).toBe(false)
  })

  it('an un-dir-synced rename reverts, and a dir-synced one stays', async () => {
    const fs = await withDurableDir()
    await fs.writeFileAtomic('/d/a.cleaned', bytes('compacted'))
    fs.rename('/d/a.cleaned', '/d/a.swap')
    const reverted = fs.processCrash()
    expect(reverted.crash().readdir('/d')).toEqual(['a.cleaned'])

    const fs2 = await withDurableDir()
    await fs2.writeFileAtomic('/d/a.cleaned', bytes('compacted'))
    fs2.rename('/d/a.cleaned', '/d/a.swap')
    await fs2.syncDir('/d')
    const kept = fs2.crash()
    expect(kept.readdir('/d')).toEqual(['a.swap'])
    expect(text(kept.readFile('/d/a.swap'))).toBe('compacted')
  })

  it('an unlinked file comes back unless the unlink was dir-synced', async () => {
    const fs = await withDurableDir()
    await fs.writeFileAtomic('/d/old', bytes('old'))
    fs.unlink('/d/old')
    expect(text(fs.processCrash().crash().readFile('/d/old'))).toBe('old')
  })

  it('a directory created by mkdirp needs its parent synced to survive', async () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/a/b')
    await fs.syncDir('/a')
    expect(fs.processCrash().crash().exists('/a')).toBe(false)
  })

  it('writeFileAtomic is durable when it resolves, and a later one replaces it whole', async () => {
    const fs = await withDurableDir()
    await fs.writeFileAtomic('/d/checkpoint', bytes('v1'))
    const h = fs.open('/d/checkpoint', 'rw')
    h.write(bytes('garbage'), 0, 7, 0)
    h.close()
    expect(text(fs.crash().readFile('/d/checkpoint'))).toBe('v1')
  })

  it('freezes the crashed instance: old handles and the old file system throw SimulatedCrash', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/a', 'rw')
    fs.crash()
    expect(() => h.write(bytes('x'), 0, 1, 0)).toThrow(SimulatedCrash)
    expect(() => h.read(Buffer.alloc(1), 0, 1, 0)).toThrow(SimulatedCrash)
    await expect(h.sync()).rejects.toThrow(SimulatedCrash)
    expect(() => fs.open('/d/b', 'rw')).toThrow(SimulatedCrash)
    expect(() => fs.readdir('/d')).toThrow(SimulatedCrash)
    expect(() => h.close()).not.toThrow()
  })

  it('the survivor is an ordinary file system whose content is all durable', async () => {
    const fs = await withDurableDir()
    await fs.writeFileAtomic('/d/a', bytes('abc'))
    const after = fs.crash()
    append(after, '/d/a', 'def')
    expect(text(after.readFile('/d/a'))).toBe('abcdef')
    expect(text(after.crash().readFile('/d/a'))).toBe('abc')
  })
})

describe('MemoryFileSystem > crash({ tornWrites })', () => {
  async function unsyncedTail(): Promise<MemoryFileSystem> {
    const fs = await withDurableDir()
    const h = fs.open('/d/00.log', 'rw')
    await fs.syncDir('/d')
    h.write(bytes('synced|'), 0, 7, 0)
    await h.sync()
    const tail = 'abcdefghijklmnopqrstuvwxyz'
    h.write(bytes(tail), 0, tail.length, 7)
    return fs
  }

  it('keeps the durable content plus a prefix of the un-fsynced tail', async () => {
    const lengths = new Set<number>()
    for (let seed = 0; seed < 40; seed++) {
      const content = text((await unsyncedTail()).crash({ tornWrites: true, seed }).readFile('/d/00.log'))
      expect('synced|abcdefghijklmnopqrstuvwxyz'.startsWith(content), `seed ${seed}: ${content}`).toBe(true)
      expect(content.length).toBeGreaterThanOrEqual(7)
      lengths.add(content.length)
    }
    expect(lengths.size).toBeGreaterThan(5)
  })

  it('tears the same way for the same seed', async () => {
    const a = (await unsyncedTail()).crash({ tornWrites: true, seed: 42 }).readFile('/d/00.log')
    const b = (await unsyncedTail()).crash({ tornWrites: true, seed: 42 }).readFile('/d/00.log')
    expect(text(a)).toBe(text(b))
  })
})

describe('MemoryFileSystem > processCrash()', () => {
  it('keeps everything written, synced or not', async () => {
    const fs = await withDurableDir()
    fs.mkdirp('/d/topic-0')
    append(fs, '/d/topic-0/00.log', 'unsynced')
    const after = fs.processCrash()
    expect(text(after.readFile('/d/topic-0/00.log'))).toBe('unsynced')
  })

  it('does not make anything durable: a machine crash afterwards still loses un-synced data', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/a', 'rw')
    await fs.syncDir('/d')
    h.write(bytes('kept'), 0, 4, 0)
    await h.sync()
    h.write(bytes('lost'), 0, 4, 4)
    const restarted = fs.processCrash()
    expect(text(restarted.readFile('/d/a'))).toBe('keptlost')
    expect(text(restarted.crash().readFile('/d/a'))).toBe('kept')
  })
})

describe('MemoryFileSystem > injectFault()', () => {
  it('ENOSPC on write throws ERR_NO_SPACE, leaves the file unchanged, and writes succeed once cleared', async () => {
    const fs = await withDurableDir()
    append(fs, '/d/a.log', 'before')
    const clear = fs.injectFault({ op: 'write', pathIncludes: '.log', errno: 'ENOSPC' })
    const h = fs.open('/d/a.log', 'rw')
    expect(() => h.write(bytes('after'), 0, 5, 6)).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE', errno: 'ENOSPC' }))
    expect(() => h.write(bytes('after'), 0, 5, 6)).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE' }))
    expect(text(fs.readFile('/d/a.log'))).toBe('before')
    append(fs, '/d/other.index', 'unaffected')
    clear()
    h.write(bytes('after'), 0, 5, 6)
    expect(text(fs.readFile('/d/a.log'))).toBe('beforeafter')
  })

  it('a short write leaves exactly the prefix it wrote', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    fs.injectFault({ op: 'write', errno: 'ENOSPC', shortWrite: 3, times: 1 })
    const h = fs.open('/d/a', 'rw')
    expect(() => h.write(bytes('abcdef'), 0, 6, 0)).toThrow(expect.objectContaining({ code: 'ERR_NO_SPACE' }))
    expect(text(fs.readFile('/d/a'))).toBe('abc')
    h.write(bytes('abcdef'), 0, 6, 0)
    expect(text(fs.readFile('/d/a'))).toBe('abcdef')
  })

  it('EIO on sync rejects with ERR_IO and makes nothing durable', async () => {
    const fs = await withDurableDir()
    const h = fs.open('/d/a', 'rw')
    await fs.syncDir('/d')
    h.write(bytes('data'), 0, 4, 0)
    fs.injectFault({ op: 'sync', errno: 'EIO', times: 1 })
    await expect(h.sync()).rejects.toMatchObject({ code: 'ERR_IO', errno: 'EIO', context: { op: 'sync', path: '/d/a' } })
    expect(fs.processCrash().crash().readFile('/d/a').length).toBe(0)
  })

  it('times limits how often a fault fires, and clearFaults removes all', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    fs.injectFault({ op: 'open', errno: 'EIO', times: 2 })
    expect(() => fs.open('/d/a', 'rw')).toThrow(expect.objectContaining({ errno: 'EIO' }))
    expect(() => fs.open('/d/a', 'rw')).toThrow(expect.objectContaining({ errno: 'EIO' }))
    fs.open('/d/a', 'rw').close()
    fs.injectFault({ op: 'any', errno: 'EIO' })
    expect(() => fs.rename('/d/a', '/d/b')).toThrow(expect.objectContaining({ errno: 'EIO', context: expect.objectContaining({ op: 'rename' }) }))
    expect(() => fs.unlink('/d/a')).toThrow(expect.objectContaining({ errno: 'EIO' }))
    fs.clearFaults()
    fs.rename('/d/a', '/d/b')
    expect(fs.readdir('/d')).toEqual(['b'])
  })
})

describe('MemoryFileSystem > crashAtOp()', () => {
  /** A three-file procedure of the kind storage runs: write a checkpoint, roll a segment, delete the old one. */
  async function procedure(fs: FileSystem): Promise<void> {
    await fs.writeFileAtomic('/d/checkpoint', bytes('offset=10'))
    append(fs, '/d/10.log', 'batch')
    fs.unlink('/d/00.log')
    await fs.syncDir('/d')
  }

  async function prepared(): Promise<MemoryFileSystem> {
    const fs = await withDurableDir()
    await fs.writeFileAtomic('/d/00.log', bytes('old segment'))
    return fs
  }

  it('stops the world at each chosen step, and the survivor holds an old-or-new checkpoint', async () => {
    const counter = await prepared()
    const start = counter.opCount()
    await procedure(counter)
    const steps = counter.opCount() - start
    expect(steps).toBe(10) // writeFileAtomic: open, truncate, write, sync, rename, syncDir; then open, write, unlink, syncDir

    for (let step = 1; step <= steps; step++) {
      const fs = await prepared()
      fs.crashAtOp(step)
      await expect(procedure(fs), `step ${step}`).rejects.toThrow(SimulatedCrash)
      expect(fs.opCount() - start).toBe(step)
      expect(() => fs.exists('/d')).toThrow(SimulatedCrash)
      const after = fs.crash()
      const checkpoint = after.exists('/d/checkpoint') ? text(after.readFile('/d/checkpoint')) : 'absent'
      expect(['absent', 'offset=10'], `step ${step}`).toContain(checkpoint)
      expect(checkpoint === 'offset=10', `step ${step}`).toBe(step > 6)
      expect(text(after.readFile('/d/00.log'))).toBe('old segment')
    }
  })

  it('the crashing operation does not take effect', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    const h = fs.open('/d/a', 'rw')
    fs.crashAtOp(2)
    h.write(bytes('one'), 0, 3, 0)
    expect(() => h.write(bytes('two'), 0, 3, 3)).toThrow(SimulatedCrash)
    expect(text(fs.processCrash().readFile('/d/a'))).toBe('one')
  })
})

describe('MemoryFileSystem > stats', () => {
  it('counts reads, writes and syncs, and bytes read per path', async () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    append(fs, '/d/00.log', 'records!')
    append(fs, '/d/00.index', 'idx')
    fs.resetStats()
    fs.readFile('/d/00.index')
    const h = fs.open('/d/00.log', 'rw')
    h.read(Buffer.alloc(4), 0, 4, 0)
    h.write(bytes('more'), 0, 4, 8)
    await h.sync()
    expect(fs.stats()).toEqual({ bytesRead: 7, bytesWritten: 4, reads: 2, writes: 1, syncs: 1, dirSyncs: 0 })
    expect(fs.bytesReadByPath((p) => p.endsWith('.log'))).toBe(4)
    expect(fs.bytesReadByPath((p) => p.endsWith('.index'))).toBe(3)
    fs.resetStats()
    expect(fs.bytesReadByPath()).toBe(0)
    expect(fs.stats().reads).toBe(0)
  })
})

describe('MemoryFileSystem > scale', () => {
  it('appends a million small writes in linear time', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    const h = fs.open('/d/big.log', 'rw')
    const chunk = bytes('0123456789abcdef')
    for (let i = 0; i < 1_000_000; i++) h.write(chunk, 0, 16, i * 16)
    expect(h.size()).toBe(16_000_000)
    const out = Buffer.alloc(16)
    h.read(out, 0, 16, 15_999_984)
    expect(text(out)).toBe('0123456789abcdef')
  })

  it('a large preallocating truncate allocates lazily and reads back zeros', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    const h = fs.open('/d/00.index', 'rw')
    h.truncate(10 * 1024 * 1024)
    h.write(bytes('entry'), 0, 5, 8)
    const out = Buffer.alloc(16).fill(1)
    expect(h.read(out, 0, 16, 10 * 1024 * 1024 - 8)).toBe(8)
    expect([...out.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
  })
})

describe('MemoryFileSystem > paths', () => {
  it('rejects a relative path with EINVAL and resolves . and .. segments', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d/sub')
    expect(() => fs.open('d/a', 'rw')).toThrow(expect.objectContaining({ errno: 'EINVAL' }))
    fs.open('/d/sub/../a', 'rw').close()
    expect(fs.readdir('/d/.')).toEqual(['a', 'sub'])
  })

  it('refuses to create under a file (ENOTDIR) or move a directory into itself (EINVAL)', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d/sub')
    fs.open('/d/f', 'rw').close()
    expect(() => fs.open('/d/f/x', 'rw')).toThrow(expect.objectContaining({ errno: 'ENOTDIR' }))
    expect(() => fs.rename('/d', '/d/sub/d')).toThrow(expect.objectContaining({ errno: 'EINVAL' }))
  })
})

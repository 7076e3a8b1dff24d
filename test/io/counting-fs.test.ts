import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CountingFileSystem, MemoryFileSystem, NodeFileSystem, type FileSystem } from '../../src/io/index'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe.each([
  ['node', (): [FileSystem, string] => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-counting-'))
    temps.push(dir)
    return [new NodeFileSystem(), dir]
  }],
  ['memory', (): [FileSystem, string] => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    return [fs, '/d']
  }],
])('CountingFileSystem over %s', (_name, create) => {
  it('counts bytes read per suffix, so a test can assert that no .log data was read', async () => {
    const [inner, dir] = create()
    const fs = new CountingFileSystem(inner)
    await fs.writeFileAtomic(`${dir}/00000000000000000000.log`, Buffer.from('records'))
    await fs.writeFileAtomic(`${dir}/00000000000000000000.timeindex`, Buffer.from('ti'))
    await fs.writeFileAtomic(`${dir}/recovery-point-offset-checkpoint`, Buffer.from('0\n1\n'))
    fs.reset()

    const index = fs.open(`${dir}/00000000000000000000.timeindex`, 'r')
    index.read(Buffer.alloc(2), 0, 2, 0)
    index.close()
    fs.readFile(`${dir}/recovery-point-offset-checkpoint`)
    expect(fs.bytesRead('.log')).toBe(0)
    expect(fs.bytesRead('.timeindex')).toBe(2)
    expect(fs.bytesRead('other')).toBe(4)

    const log = fs.open(`${dir}/00000000000000000000.log`, 'r')
    fs.reset()
    log.read(Buffer.alloc(7), 0, 7, 0)
    log.close()
    expect(fs.snapshot()['.log']).toEqual({ bytesRead: 7, reads: 1, bytesWritten: 0 })
  })

  it('classifies by the longest configured suffix', () => {
    const fs = new CountingFileSystem(create()[0], ['.log', '.log.deleted', '.index'])
    expect(fs.classify('/d/00.log')).toBe('.log')
    expect(fs.classify('/d/00.log.deleted')).toBe('.log.deleted')
    expect(fs.classify('/d/00.index.swap')).toBe('other')
  })
})

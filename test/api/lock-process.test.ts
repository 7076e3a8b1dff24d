import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kafkalite } from '../../src/api/kafkalite'
import { expectCode } from '../engine/helpers'

let childScript: string
let work: string
let child: ChildProcess | undefined

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kafkalite-lock-process-'))
  childScript = join(work, 'child.cjs')
  buildSync({
    entryPoints: [join(__dirname, 'lock-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: childScript,
    external: ['@node-rs/crc32', 'lz4-napi', '@napi-rs/snappy', '@bokuweb/zstd-wasm', 'fzstd'],
    nodePaths: [join(__dirname, '../../node_modules')],
    logLevel: 'error',
  })
})

afterAll(() => {
  child?.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
})

/** Starts the child on `dir` and resolves with its pid once it holds the lock. */
function startHolder(dir: string): Promise<number> {
  const proc = spawn(process.execPath, [childScript, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_PATH: join(__dirname, '../../node_modules') },
  })
  child = proc
  let out = ''
  let err = ''
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d
      const m = /open (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    proc.stderr!.on('data', (d) => (err += d))
    proc.on('exit', (code) => reject(new Error(`child exited ${code} before opening: ${err}`)))
  })
}

describe('Kafkalite data-directory lock across processes', () => {
  it('refuses a directory another live process holds (naming it), and takes it over once that process is killed', async () => {
    const dir = join(work, 'data')
    const pid = await startHolder(dir)
    const error = await expectCode(() => Kafkalite.open({ dir }), 'ERR_LOCKED')
    expect(error.message).toContain(`pid ${pid}`)

    const exited = new Promise((r) => child!.once('exit', r))
    child!.kill('SIGKILL')
    await exited
    const kl = await Kafkalite.open({ dir })
    try {
      expect(kl.openReport.cleanShutdown).toBe(false)
      const [record] = kl.topic('t').partition(0).readRecords(0).records
      expect(record!.value!.toString()).toBe(`from ${pid}`)
    } finally {
      await kl.close()
    }
  })
})

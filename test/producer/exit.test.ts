/**
 * Linger timers never keep the process alive; a process that runs out of work with records lingering in
 * a producer appends them first (exit-flush.ts), so an awaited send settles and a forgotten one is not
 * lost. Checked in a real child process, since only a real event loop can run empty.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kafkalite } from '../../src/api/kafkalite'
import { bundleChild, childEnv } from '../helpers/child'

let work: string
let childScript: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kafkalite-exit-'))
  childScript = bundleChild(join(__dirname, 'exit-child.ts'))
})

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('Producer > a process that runs out of work', () => {
  it('keeps appending lingering records while awaited sends lead to more sends (chunks of awaited sends)', () => {
    const dir = join(work, 'chunks')
    const child = spawnSync(process.execPath, [childScript, dir, 'chunks'], { encoding: 'utf8', timeout: 30_000, env: childEnv() })
    expect(child.stderr).toBe('')
    expect(child.stdout).toBe('sent 99999\n')
    expect(child.status).toBe(0)
  })

  it.each(['await', 'forget'])('appends lingering records before it exits (send %s)', async (mode) => {
    const dir = join(work, mode)
    const started = Date.now()
    const child = spawnSync(process.execPath, [childScript, dir, mode], {
      encoding: 'utf8',
      timeout: 30_000,
      env: childEnv(),
    })
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    if (mode === 'await') expect(child.stdout).toBe('sent 0\n')
    // Nowhere near the hour-long linger: the timer did not hold the process, and did not have to fire.
    expect(Date.now() - started).toBeLessThan(30_000)
    const kl = await Kafkalite.open({ dir })
    expect(kl.topic('t').partition(0).readRecords(0).records.map((r) => r.value?.toString())).toEqual([`from ${child.pid}`])
    await kl.close()
  })
})

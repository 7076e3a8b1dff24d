/**
 * Background timers never keep the host alive, but a poll the caller is awaiting does: a script whose
 * only pending work is `await consumer.poll({ timeoutMs })` gets its (empty) result instead of exiting
 * in the middle of the await. Checked in a real child process, since only a real event loop can run empty.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleChild, childEnv } from '../helpers/child'

describe('Consumer > a script awaiting a poll', () => {
  it('stays alive until the poll times out and then exits normally', () => {
    const script = bundleChild(join(__dirname, 'keep-alive-child.ts'))
    const dir = join(mkdtempSync(join(tmpdir(), 'kafkalite-keepalive-')), 'data')
    const child = spawnSync(process.execPath, [script, dir], { encoding: 'utf8', timeout: 30_000, env: childEnv() })
    expect(child.stderr).toBe('')
    expect(child.stdout).toBe('polled 0\n')
    expect(child.status).toBe(0)
  })
})

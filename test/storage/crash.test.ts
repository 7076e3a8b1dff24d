/**
 * Crash safety. Invariants checked after every crash:
 *   1. every acknowledged (fsynced) record is present, at its offset, with its value;
 *   2. no torn or invalid batch is served: everything read back passes CRC and decode;
 *   3. the log reopens appendable, continuing after the last surviving offset.
 * Process crashes: a child appends in fsync mode and is killed with SIGKILL at random moments
 * (KAFKALITE_CRASH_ROUNDS rounds, default 50). Machine crashes: the in-memory file system drops
 * everything not fsynced and tears un-fsynced tails at random (seeded; the seed is printed).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { validateBatch } from '../../src/codec/record-batch'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { NodeFileSystem } from '../../src/io/node-fs'
import type { PartitionLog } from '../../src/storage/partition-log'
import { bundleChild, childEnv } from '../helpers/child'
import { batchOf, durableMemoryFs, openLog, readAll } from '../helpers/storage'

const ROUNDS = Number(process.env.KAFKALITE_CRASH_ROUNDS ?? 50)

/** Reads every batch back, checking its CRC, and returns the values by offset. */
function verifiedValues(log: PartitionLog): Map<number, string> {
  const out = new Map<number, string>()
  let next = log.logStartOffset
  while (next < log.highWatermark) {
    const { records } = log.read(next, 1 << 20)
    for (let pos = 0; pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) validateBatch(records, pos)
    const recs = readAll(log, next, 1 << 20)
    for (const r of recs) out.set(r.offset, r.value!.toString())
    next = log.highWatermark
  }
  return out
}

describe('crash safety > SIGKILL of a process appending in fsync mode', () => {
  let childScript: string
  beforeAll(() => {
    childScript = bundleChild(join(__dirname, 'crash-child.ts'))
  })

  it(`keeps every acknowledged record over ${ROUNDS} random kills`, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kafkalite-crash-')), 't-0')
    const seed = Number(process.env.KAFKALITE_CRASH_SEED ?? Date.now() % 100000)
    console.log(`crash test seed ${seed}, ${ROUNDS} rounds, dir ${dir}`)
    let rand = seed
    const random = () => ((rand = (rand * 1103515245 + 12345) % 2147483648) / 2147483648)
    const acked = new Map<number, number>() // baseOffset -> lastOffset
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, [childScript, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv(),
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      await new Promise<void>((resolve, reject) => {
        const started = setInterval(() => {
          if (out.includes('open')) {
            clearInterval(started)
            setTimeout(() => {
              child.kill('SIGKILL')
              resolve()
            }, 5 + random() * 60)
          }
        }, 2)
        child.on('exit', (code) => {
          clearInterval(started)
          if (code !== null) reject(new Error(`child exited ${code}: ${err} ${out.slice(0, 200)}`))
        })
      })
      await new Promise((r) => child.once('close', r))
      for (const line of out.split('\n')) {
        const m = /^ack (\d+) (\d+)$/.exec(line)
        if (m) acked.set(Number(m[1]), Number(m[2]))
      }
      const log = await openLog(new NodeFileSystem(), dir, { config: { durability: 'fsync', segmentBytes: 64 * 1024, indexIntervalBytes: 512 } })
      const values = verifiedValues(log)
      for (const [base, last] of acked) {
        for (let o = base; o <= last; o++) expect(values.get(o), `acknowledged offset ${o} (round ${round}, seed ${seed})`).toBe(`value-${base}-${o - base}`)
      }
      expect([...values.keys()]).toEqual(Array.from({ length: values.size }, (_, i) => i))
      await log.close()
    }
    expect(acked.size).toBeGreaterThan(0)
  }, 600_000)
})

describe('crash safety > machine crash with torn, un-fsynced tails (in-memory fs)', () => {
  it('keeps every fsynced record and serves no torn batch, across many seeded crashes', async () => {
    const base = Number(process.env.KAFKALITE_CRASH_SEED ?? 1234)
    for (let seed = base; seed < base + 40; seed++) {
      let fs = await durableMemoryFs()
      const acked: number[] = []
      let log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync', segmentBytes: 700 } })
      for (let round = 0; round < 3; round++) {
        const waits: Promise<void>[] = []
        for (let i = 0; i < 20; i++) {
          const { lastOffset } = log.append(batchOf([`v${log.logEndOffset}`]))
          // Waits still pending at the crash fail (the old file system is frozen): not acknowledged.
          if (i % 3 === 0) waits.push(log.flushUpTo(lastOffset).then(() => void acked.push(lastOffset), () => undefined))
          if (i === 10) await Promise.all(waits)
        }
        fs = fs.crash({ tornWrites: true, seed: seed * 10 + round })
        log = await openLog(fs, '/d/t-0', { config: { durability: 'fsync', segmentBytes: 700 } })
        const values = verifiedValues(log)
        for (const o of acked) expect(values.get(o), `offset ${o}, seed ${seed}`).toBe(`v${o}`)
        for (const [o, v] of values) expect(v).toBe(`v${o}`)
      }
      await log.close()
    }
  })
})

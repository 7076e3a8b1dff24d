#!/usr/bin/env node
/**
 * kafkalite's benchmark suite: every measurement beside a raw-file floor, in the same run (see
 * bench/README.md). `node bench/run.mjs` runs the full suite (under 10 minutes on 2 cores);
 * `--smoke` runs everything tiny in seconds (CI: it checks that the suite runs and verifies what it
 * reads, and times nothing); `--only <substring>` runs the measurements whose group matches.
 *
 * Output: one JSON line per measurement on stdout, then a markdown table. Exit code 1 if any
 * measurement failed verification or threw (an unmet target is reported, not an error).
 */
import { execSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cleanupScratch, failed, markdownTable, makeScratch } from './lib/harness.mjs'
import { loadKafkalite } from './lib/kafkalite.mjs'
import { makeAdapters } from './lib/adapters.mjs'
import { PROFILES } from './lib/profiles.mjs'
import { GROUPS } from './lib/groups.mjs'

const args = process.argv.slice(2)
const smoke = args.includes('--smoke')
const onlyAt = args.indexOf('--only')
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined
const profile = smoke ? PROFILES.smoke : PROFILES.full

const snapshot = snapshotDist()
const { kl, has } = await loadKafkalite()
const scratch = makeScratch()
const adapters = makeAdapters(kl, has)
const ctx = { kl, has, adapters, scratch, profile, smoke, consumerScan: adapters.consumerScan, producerAppend: adapters.producerAppend }
const results = []
const started = Date.now()
// The machine, first: results only mean something beside it (and beside the load other work put on it).
const machine = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  tmpdir: os.tmpdir(),
  tmpFree: (() => {
    try {
      return execSync(`df -h ${os.tmpdir()} | tail -1`, { encoding: 'utf8' }).trim()
    } catch {
      return undefined
    }
  })(),
}
process.stdout.write(`${JSON.stringify({ machine, profile: smoke ? 'smoke' : 'full' })}\n`)
let broken = false
const cleanup = () => {
  cleanupScratch(scratch)
  fs.rmSync(snapshot, { recursive: true, force: true })
}
// Interrupted (Ctrl-C, or a CI timeout's SIGTERM): still remove the scratch data and the snapshot.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    cleanup()
    process.exit(code)
  })
}
try {
  for (const group of GROUPS) {
    if (only !== undefined && !group.name.includes(only)) continue
    let out
    try {
      out = await group.run(ctx)
    } catch (e) {
      broken = true
      process.stderr.write(`${group.name}: ${e.stack}\n`)
      out = [failed(group.name, e)]
    }
    for (const r of out) {
      if (r.status?.startsWith('failed')) broken = true
      // A smoke run is too small to judge a target (and CI times nothing): it only proves the suite runs
      // and verifies what it reads.
      if (smoke && r.target !== null) r.met = null
      results.push(r)
      process.stdout.write(`${JSON.stringify(r)}\n`)
    }
  }
} finally {
  cleanup()
}
process.stdout.write(`\n${markdownTable(results)}\n\n`)
process.stdout.write(
  `${smoke ? 'smoke run' : 'full run'} in ${((Date.now() - started) / 1000).toFixed(1)} s; load average at the start ${machine.loadavg.join(' ')}, at the end ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
)
process.exitCode = broken ? 1 : 0

/** Copies dist/ to bench/out/dist-<pid>/ and points every import (ours and the children's) at it. */
function snapshotDist() {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url))
  const copy = fileURLToPath(new URL(`./out/dist-${process.pid}/`, import.meta.url))
  if (!fs.existsSync(`${dist}index.js`)) {
    process.stderr.write('dist/index.js is missing: run `npm run bench` (tsup first)\n')
    process.exit(1)
  }
  fs.cpSync(dist, copy, { recursive: true })
  process.env.KAFKALITE_BENCH_DIST = pathToFileURL(`${copy}index.js`).href
  return copy
}

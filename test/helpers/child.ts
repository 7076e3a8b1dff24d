/**
 * Child processes for tests that need a real event loop or a real process death (SIGKILL crash rounds,
 * exit behaviour): the child's TypeScript entry is bundled with esbuild into one CommonJS file that
 * resolves native codecs from the repo's node_modules.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { buildSync } from 'esbuild'

export const NODE_MODULES = resolve(__dirname, '../../node_modules')

/** Bundles `entry` (an absolute path to a .ts file) and returns the path of the runnable script. */
export function bundleChild(entry: string): string {
  const outfile = join(mkdtempSync(join(tmpdir(), 'kafkalite-child-')), 'child.cjs')
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    external: ['@node-rs/crc32', 'lz4-napi', '@napi-rs/snappy', '@bokuweb/zstd-wasm', 'fzstd'],
    nodePaths: [NODE_MODULES],
    logLevel: 'error',
  })
  return outfile
}

/** The environment a bundled child needs to find the native packages. */
export function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: NODE_MODULES }
}

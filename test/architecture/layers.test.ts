/**
 * Layers are folders and imports point one way (docs/architecture.md). This test reads every source
 * file, resolves its relative imports to a layer folder, and fails on any import that points up the
 * stack or sideways between two layers of the same rank.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = resolve(__dirname, '../../src')

/** Lower rank = lower layer. A file may import its own folder or any folder of strictly lower rank. */
export const LAYER_RANK: Record<string, number> = {
  util: 0,
  errors: 1,
  config: 2,
  codec: 3,
  io: 4,
  storage: 5,
  cleaner: 6,
  engine: 7,
  producer: 8,
  consumer: 8,
  group: 9,
  api: 10,
  '.': 11, // src/index.ts, the package entry
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return sourceFiles(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

function layerOf(file: string): string {
  const rel = relative(SRC, file)
  const first = rel.split('/')[0]!
  return rel.includes('/') ? first : '.'
}

function relativeImports(source: string): string[] {
  const specs: string[] = []
  const re = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2])!)
  return specs
}

describe('architecture > layers', () => {
  const files = sourceFiles(SRC)

  it('every source folder is a known layer', () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(l in LAYER_RANK))
    expect(unknown).toEqual([])
  })

  it('imports only point down the layers', () => {
    const violations: string[] = []
    for (const file of files) {
      const from = layerOf(file)
      for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec)
        const isDir = (() => {
          try {
            return statSync(target).isDirectory()
          } catch {
            return false
          }
        })()
        const to = layerOf(isDir ? join(target, 'index.ts') : target.endsWith('.ts') ? target : `${target}.ts`)
        if (to === from) continue
        if (!(LAYER_RANK[to]! < LAYER_RANK[from]!)) violations.push(`${relative(SRC, file)} imports ${spec} (${from} -> ${to})`)
      }
    }
    expect(violations).toEqual([])
  })

  it('the codec layer touches no file system, clock or timer', () => {
    const offenders = files
      .filter((f) => layerOf(f) === 'codec')
      .filter((f) => /from ['"](node:)?(fs|fs-extra|fs\/promises)['"]|Date\.now\(|setTimeout\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f))
    expect(offenders).toEqual([])
  })
})

/**
 * The config mechanism on a small table of its own: defaults, base, unknown keys and their hints, freezing,
 * relations with the set of explicitly given keys, and each validator's boundaries.
 */
import { describe, expect, it } from 'vitest'
import {
  bool,
  custom,
  defineConfig,
  describeConfig,
  double,
  int,
  INVALID,
  long,
  nullableString,
  oneOf,
  resolveConfig,
  string,
  suggestKey,
} from '../../src/config/define'
import { expectInvalidConfig } from './key-cases'

interface Demo {
  readonly sizeBytes: number
  readonly ageMs: number
  readonly enabled: boolean
  readonly mode: 'a' | 'b'
  readonly tags: readonly string[]
  readonly derived: number
}

const DEMO = defineConfig<Demo>({
  kind: 'demo',
  table: {
    sizeBytes: { validator: int(1, 100), default: 10, kafkaName: 'size.bytes', doc: 'size' },
    ageMs: { validator: long(-1), default: 1000, kafkaName: 'log.age.hours', doc: 'age' },
    enabled: { validator: bool(), default: false, kafkaName: null, doc: 'flag' },
    mode: { validator: oneOf(['a', 'b'] as const), default: 'a', kafkaName: null, doc: 'mode' },
    tags: {
      validator: custom('list', 'an array of strings', (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? [...v] : INVALID)),
      default: ['x'],
      kafkaName: null,
      doc: 'tags',
    },
    derived: { validator: int(0), default: 0, kafkaName: null, doc: 'derived' },
  },
  relations: (config, explicit) => {
    if (config.mode === 'b' && !config.enabled) {
      if (explicit.has('mode')) throw new Error('mode b needs enabled')
    }
    return explicit.has('derived') ? config : { ...config, derived: config.sizeBytes * 2 }
  },
})

const resolve = (input: unknown, base?: Demo) => resolveConfig(DEMO, input, base)

describe('config > define > resolveConfig', () => {
  it('fills every key from the defaults when the input is empty or undefined', () => {
    expect(resolve({})).toEqual({ sizeBytes: 10, ageMs: 1000, enabled: false, mode: 'a', tags: ['x'], derived: 20 })
    expect(resolve(undefined)).toEqual(resolve({}))
  })

  it('treats an undefined value as absent', () => {
    expect(resolve({ sizeBytes: undefined }).sizeBytes).toBe(10)
  })

  it('takes absent keys from the base instead of the defaults', () => {
    const base = resolve({ sizeBytes: 50, enabled: true })
    const config = resolve({ ageMs: 5 }, base)
    expect(config).toMatchObject({ sizeBytes: 50, enabled: true, ageMs: 5 })
  })

  it('returns a frozen object with frozen arrays, and freezes the shared defaults', () => {
    const config = resolve({ tags: ['p', 'q'] })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.tags)).toBe(true)
    expect(Object.isFrozen(resolve({}).tags)).toBe(true)
    expect(() => {
      ;(config as { sizeBytes: number }).sizeBytes = 1
    }).toThrow(TypeError)
  })

  it('does not freeze or keep the caller’s array', () => {
    const tags = ['p']
    const config = resolve({ tags })
    expect(Object.isFrozen(tags)).toBe(false)
    tags.push('changed')
    expect(config.tags).toEqual(['p'])
  })

  it('rejects an input that is not a plain object', () => {
    for (const input of [null, 5, 'x', [], new Map()]) {
      const e = expectInvalidConfig(() => resolve(input))
      expect(e.message).toContain('demo config')
    }
  })

  it('rejects an unknown key, naming it', () => {
    const e = expectInvalidConfig(() => resolve({ colour: 'red' }))
    expect(e.message).toBe('Invalid value "red" for colour: unknown demo config key')
    expect(e.context.key).toBe('colour')
  })

  it('suggests the key whose Kafka name was used, even when the units differ', () => {
    expect(expectInvalidConfig(() => resolve({ 'size.bytes': 5 })).message).toMatch(/did you mean sizeBytes\?$/)
    expect(expectInvalidConfig(() => resolve({ 'log.age.hours': 5 })).message).toMatch(/did you mean ageMs\?$/)
  })

  it('suggests the camelCase key for a dotted, dashed or differently cased name, and the nearest key for a typo', () => {
    expect(suggestKey(DEMO, 'age.ms')).toBe('ageMs')
    expect(suggestKey(DEMO, 'size-bytes')).toBe('sizeBytes')
    expect(suggestKey(DEMO, 'SIZEBYTES')).toBe('sizeBytes')
    expect(suggestKey(DEMO, 'enabeld')).toBe('enabled')
    expect(suggestKey(DEMO, 'completelyDifferent')).toBeNull()
  })

  it('passes explicit keys to relations, so a rule can tell a chosen value from a default', () => {
    expect(() => resolve({ mode: 'b' })).toThrow('mode b needs enabled')
    expect(resolve({ mode: 'b', enabled: true }).mode).toBe('b')
    expect(resolve({ sizeBytes: 7 }).derived).toBe(14)
    expect(resolve({ sizeBytes: 7, derived: 1 }).derived).toBe(1)
  })

  it('describes every key for documentation', () => {
    const rows = describeConfig(DEMO)
    expect(rows.map((r) => r.key)).toEqual(['sizeBytes', 'ageMs', 'enabled', 'mode', 'tags', 'derived'])
    expect(rows[0]).toEqual({ key: 'sizeBytes', type: 'int', default: 10, allowed: 'an integer in [1, 100]', doc: 'size', kafkaName: 'size.bytes' })
  })
})

describe('config > define > validators', () => {
  it('int accepts integers in range only', () => {
    const v = int(0, 10)
    expect([0, 10, 5].map((x) => v.parse(x))).toEqual([0, 10, 5])
    for (const bad of [-1, 11, 1.5, Number.NaN, Infinity, '5', null, 5n]) expect(v.parse(bad)).toBe(INVALID)
    expect(int(1).allowed).toBe('an integer in [1, 2147483647]')
  })

  it('long stops at Number.MAX_SAFE_INTEGER', () => {
    const v = long(0)
    expect(v.parse(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER)
    expect(v.parse(Number.MAX_SAFE_INTEGER + 1)).toBe(INVALID)
    expect(v.allowed).toBe('an integer in [0, 9007199254740991]')
  })

  it('double is inclusive unless told otherwise, and rejects non-finite numbers', () => {
    expect(double(0, 1).parse(0)).toBe(0)
    expect(double(0, 1).parse(1)).toBe(1)
    expect(double(0, 1, { minExclusive: true }).parse(0)).toBe(INVALID)
    expect(double(0, 1, { minExclusive: true }).allowed).toBe('a number in (0, 1]')
    expect(double(0, 1).parse(Number.NaN)).toBe(INVALID)
  })

  it('bool, oneOf, string and nullableString accept exactly their values', () => {
    expect(bool().parse(true)).toBe(true)
    expect(bool().parse('true')).toBe(INVALID)
    expect(oneOf(['x', 'y'] as const).parse('y')).toBe('y')
    expect(oneOf(['x', 'y'] as const).parse('X')).toBe(INVALID)
    expect(oneOf(['x', 'y'] as const).allowed).toBe('one of "x", "y"')
    expect(string({ nonEmpty: true }).parse('')).toBe(INVALID)
    expect(string().parse('')).toBe('')
    expect(nullableString({ nonEmpty: true }).parse(null)).toBeNull()
    expect(nullableString({ nonEmpty: true }).parse('')).toBe(INVALID)
    expect(nullableString().allowed).toBe('null or a string')
  })
})

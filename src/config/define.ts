/**
 * The configuration mechanism, in the manner of Kafka's `ConfigDef`: each kind of configuration (topic,
 * producer, consumer, engine) is one table that gives every key its type, default, validator and doc, plus an
 * optional `relations` step for rules that involve more than one key. `resolveConfig` is the only code that
 * reads caller input:
 *
 * 1. The input must be a plain object; a key the table does not define is an error that names it and, when
 *    possible, suggests the key that was meant (Kafka's dotted names map to kafkalite's camelCase ones).
 * 2. Each key is taken from the input if present (an `undefined` value counts as absent), else from `base`,
 *    else from the table's default; every input value goes through its validator, which may normalise it.
 * 3. `relations` checks the combination, and may derive values that depend on others (for example, Kafka
 *    turns idempotence off when acks is not "all" and idempotence was not set explicitly).
 * 4. The result is frozen, arrays included, and so are the defaults it shares.
 *
 * Every failure is an InvalidConfigError carrying the key, the value and a description of what is allowed.
 */
import { InvalidConfigError } from '../errors/index'

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'enum' | 'list' | 'function' | 'object'

/** What a validator returns for a value it rejects. */
export const INVALID: unique symbol = Symbol('kafkalite.invalidConfigValue')

export interface Validator<T> {
  readonly type: ConfigType
  /** The allowed values in words, e.g. "an integer in [14, 2147483647]"; it appears in InvalidConfigError. */
  readonly allowed: string
  /** Returns the (possibly normalised) value, or INVALID. May throw an InvalidConfigError of its own. */
  parse(value: unknown): T | typeof INVALID
}

export interface ConfigKey<T> {
  readonly validator: Validator<T>
  readonly default: T
  readonly doc: string
  /** Kafka's dotted name when the key mirrors a Kafka config; null for kafkalite's own keys. */
  readonly kafkaName: string | null
}

export type ConfigTable<C> = { readonly [K in keyof C]-?: ConfigKey<C[K]> }

export interface ConfigKind<C> {
  /** "topic", "producer", ...: used in error messages. */
  readonly kind: string
  readonly table: ConfigTable<C>
  /**
   * Checks rules between keys and returns the final config (possibly with derived values). `explicit` holds
   * the keys the caller set, because some of Kafka's rules depend on whether a value was chosen or defaulted.
   */
  readonly relations?: (config: C, explicit: ReadonlySet<keyof C>) => C
}

/** Identity, for type inference: `defineConfig<TopicConfig>({ kind, table, relations })`. */
export function defineConfig<C>(kind: ConfigKind<C>): ConfigKind<C> {
  for (const key of Object.keys(kind.table) as (keyof C)[]) deepFreeze(kind.table[key].default)
  return kind
}

export function resolveConfig<C extends object>(kind: ConfigKind<C>, input: unknown, base?: Readonly<C>): Readonly<C> {
  const given = input === undefined ? {} : input
  if (!isPlainObject(given)) throw new InvalidConfigError(`${kind.kind} config`, input, 'a plain object of config keys')

  const table = kind.table as unknown as Record<string, ConfigKey<unknown>>
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(table, key)) throw unknownKey(kind, key, given[key])
  }

  const explicit = new Set<keyof C>()
  const resolved: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(table)) {
    const raw = given[key]
    if (raw === undefined) {
      resolved[key] = base === undefined ? entry.default : (base as Record<string, unknown>)[key]
      continue
    }
    const value = entry.validator.parse(raw)
    if (value === INVALID) throw new InvalidConfigError(key, raw, entry.validator.allowed, { config: kind.kind })
    resolved[key] = value
    explicit.add(key as keyof C)
  }

  const config = resolved as C
  return deepFreeze(kind.relations === undefined ? config : kind.relations(config, explicit))
}

/** One row per key, for generated documentation. */
export interface ConfigDocRow {
  readonly key: string
  readonly type: ConfigType
  readonly default: unknown
  readonly allowed: string
  readonly doc: string
  readonly kafkaName: string | null
}

export function describeConfig<C>(kind: ConfigKind<C>): ConfigDocRow[] {
  return Object.entries(kind.table as unknown as Record<string, ConfigKey<unknown>>).map(([key, entry]) => ({
    key,
    type: entry.validator.type,
    default: entry.default,
    allowed: entry.validator.allowed,
    doc: entry.doc,
    kafkaName: entry.kafkaName,
  }))
}

// ---------------------------------------------------------------------------------------------------------
// Validators

export const INT32_MAX = 2 ** 31 - 1

/** An integer in [min, max]; `type` says whether Kafka declares it INT (int32) or LONG. */
function integer(type: 'int' | 'long', min: number, max: number): Validator<number> {
  return {
    type,
    allowed: `an integer in [${min}, ${max}]`,
    parse: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : INVALID),
  }
}

/** Kafka INT: an integer in [min, max], max defaulting to 2^31 - 1. */
export function int(min: number, max: number = INT32_MAX): Validator<number> {
  return integer('int', min, max)
}

/** Kafka LONG: an integer in [min, max]; Long.MAX_VALUE becomes Number.MAX_SAFE_INTEGER (2^53 - 1). */
export function long(min: number, max: number = Number.MAX_SAFE_INTEGER): Validator<number> {
  return integer('long', min, max)
}

/** Kafka DOUBLE: a finite number in [min, max], or (min, max] when `minExclusive`. */
export function double(min: number, max: number, options: { minExclusive?: boolean } = {}): Validator<number> {
  const open = options.minExclusive === true
  return {
    type: 'double',
    allowed: `a number in ${open ? '(' : '['}${min}, ${max}]`,
    parse: (v) => (typeof v === 'number' && Number.isFinite(v) && (open ? v > min : v >= min) && v <= max ? v : INVALID),
  }
}

export function bool(): Validator<boolean> {
  return { type: 'boolean', allowed: 'true or false', parse: (v) => (typeof v === 'boolean' ? v : INVALID) }
}

/** One of a fixed set of values (compared with ===). */
export function oneOf<const T extends string | number>(values: readonly T[]): Validator<T> {
  return {
    type: 'enum',
    allowed: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    parse: (v) => ((values as readonly unknown[]).includes(v) ? (v as T) : INVALID),
  }
}

/** Any string, or only non-empty ones. */
export function string(options: { nonEmpty?: boolean } = {}): Validator<string> {
  const nonEmpty = options.nonEmpty === true
  return {
    type: 'string',
    allowed: nonEmpty ? 'a non-empty string' : 'a string',
    parse: (v) => (typeof v === 'string' && (!nonEmpty || v.length > 0) ? v : INVALID),
  }
}

/** null, or a string (non-empty when asked). */
export function nullableString(options: { nonEmpty?: boolean } = {}): Validator<string | null> {
  const inner = string(options)
  return {
    type: 'string',
    allowed: `null or ${inner.allowed}`,
    parse: (v) => (v === null ? null : inner.parse(v)),
  }
}

/** A validator with its own parse; `allowed` must describe exactly what parse accepts. */
export function custom<T>(type: ConfigType, allowed: string, parse: (value: unknown) => T | typeof INVALID): Validator<T> {
  return { type, allowed, parse }
}

// ---------------------------------------------------------------------------------------------------------
// Internals

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** Freezes plain objects and arrays, recursively; leaves functions, Buffers and class instances alone. */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    if (!Object.isFrozen(value)) {
      Object.freeze(value)
      for (const child of Object.values(value as object)) deepFreeze(child)
    }
  }
  return value
}

function unknownKey<C>(kind: ConfigKind<C>, key: string, value: unknown): InvalidConfigError {
  const suggestion = suggestKey(kind, key)
  const hint = suggestion === null ? '' : `; did you mean ${suggestion}?`
  return new InvalidConfigError(key, value, `unknown ${kind.kind} config key${hint}`, { config: kind.kind, suggestion })
}

/**
 * The key the caller probably meant: the key whose Kafka name they used (`retention.ms` → `retentionMs`,
 * `enable.idempotence` → `idempotent`), the camelCase form of a dotted name, the same key in another case,
 * or the nearest key within a small edit distance.
 */
export function suggestKey<C>(kind: ConfigKind<C>, key: string): string | null {
  const entries = Object.entries(kind.table as unknown as Record<string, ConfigKey<unknown>>)
  const byKafkaName = entries.find(([, e]) => e.kafkaName === key)
  if (byKafkaName !== undefined) return byKafkaName[0]

  const keys = entries.map(([k]) => k)
  const squash = (s: string) => s.toLowerCase().replace(/[._-]/g, '')
  const sameLetters = keys.find((k) => squash(k) === squash(key))
  if (sameLetters !== undefined) return sameLetters

  let best: string | null = null
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1
  for (const k of keys) {
    const d = editDistance(squash(k), squash(key))
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

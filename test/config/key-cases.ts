/**
 * Shared per-key checks for the config tables. For every key of a kind: the resolved default is the
 * documented one, a valid value is accepted (and normalised where the key normalises), and each invalid value
 * is rejected with an InvalidConfigError whose message names the key, the value and the allowed range. A
 * completeness check makes sure a key added to a table without a case here fails the suite.
 */
import { describe, expect, it } from 'vitest'
import type { ConfigKind } from '../../src/config/define'
import { describeValue, type InvalidConfigError } from '../../src/errors/index'
import { expectSyncCode } from '../helpers/errors'

export interface KeyCase {
  readonly key: string
  readonly default: unknown
  /** [input, resolved] pairs; resolved defaults to input. */
  readonly valid: readonly (readonly [unknown] | readonly [unknown, unknown])[]
  readonly invalid: readonly unknown[]
  /** Text the error's "allowed" part must contain, e.g. "[14, 2147483647]". */
  readonly allowed: string
}

/** Asserts a synchronous throw of ERR_INVALID_CONFIG; returns it. */
export function expectInvalidConfig(fn: () => unknown): InvalidConfigError {
  return expectSyncCode<InvalidConfigError>(fn, 'ERR_INVALID_CONFIG')
}

export function describeKeyCases<C>(
  kind: ConfigKind<C>,
  resolve: (input: Record<string, unknown>) => Readonly<C>,
  cases: readonly KeyCase[],
  /** Extra keys to set alongside the one under test, so that relations hold (e.g. a groupId). */
  context: (key: string) => Record<string, unknown> = () => ({}),
): void {
  describe(`${kind.kind} config > keys`, () => {
    it('has a test case for every key in the table, and no case for a key it lacks', () => {
      expect(cases.map((c) => c.key).sort()).toEqual(Object.keys(kind.table).sort())
    })

    for (const c of cases) {
      describe(c.key, () => {
        it('defaults as documented', () => {
          expect(resolve({})[c.key as keyof C]).toEqual(c.default)
          expect(kind.table[c.key as keyof C].default).toEqual(c.default)
        })

        it('accepts a valid value', () => {
          for (const [input, ...rest] of c.valid) {
            const expected = rest.length > 0 ? rest[0] : input
            expect(resolve({ ...context(c.key), [c.key]: input })[c.key as keyof C]).toEqual(expected)
          }
        })

        it('rejects an invalid value, naming the key, the value and the allowed range', () => {
          for (const input of c.invalid) {
            const e = expectInvalidConfig(() => resolve({ ...context(c.key), [c.key]: input }))
            expect(e.context.key).toBe(c.key)
            expect(e.context.value).toBe(input)
            expect(e.message).toContain(c.key)
            expect(e.message).toContain(describeValue(input))
            expect(e.message).toContain(c.allowed)
          }
        })
      })
    }
  })
}

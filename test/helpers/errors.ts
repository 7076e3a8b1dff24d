/**
 * Assertions that a call fails with a typed error. Each returns the error, so that a test can go on to
 * check its context and message; a wrong error fails with that error's stack in the message.
 */
import { expect } from 'vitest'
import { isKafkaliteError, type CorruptRecordError, type ErrorCode, type KafkaliteError } from '../../src/errors/index'

function unexpected(code: ErrorCode, error: unknown): Error {
  return new Error(`expected ${code}, got ${String((error as Error)?.stack ?? error)}`)
}

/** Asserts that `run` throws (sync) or rejects (async) a KafkaliteError with `code`; returns it. */
export async function expectCode<E extends KafkaliteError = KafkaliteError>(run: () => unknown, code: ErrorCode): Promise<E> {
  let error: unknown
  try {
    await run()
  } catch (e) {
    error = e
  }
  expect(error, `expected ${code}`).toBeDefined()
  if (!isKafkaliteError(error, code)) throw unexpected(code, error)
  return error as E
}

/** Asserts a synchronous throw (not a rejected promise) of a KafkaliteError with `code`; returns it. */
export function expectSyncCode<E extends KafkaliteError = KafkaliteError>(run: () => unknown, code: ErrorCode): E {
  let error: unknown
  let result: unknown
  try {
    result = run()
  } catch (e) {
    error = e
  }
  expect(result instanceof Promise, 'expected a synchronous throw, got a promise').toBe(false)
  if (!isKafkaliteError(error, code)) throw unexpected(code, error)
  return error as E
}

/** Asserts a synchronous throw of ERR_CORRUPT_RECORD (a decoder rejecting its input); returns it. */
export function expectCorrupt(run: () => unknown): CorruptRecordError {
  return expectSyncCode<CorruptRecordError>(run, 'ERR_CORRUPT_RECORD')
}

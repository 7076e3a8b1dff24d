/**
 * Assertions are for our own bugs: a failed assertion means kafkalite broke an invariant, not that the
 * caller passed bad input (that is a KafkaliteError with a code). They are cheap and always on.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`kafkalite internal invariant violated: ${message}`)
    this.name = 'AssertionError'
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function unreachable(value: never): never {
  throw new AssertionError(`unreachable: ${String(value)}`)
}

/** Helpers for tests that drive promises by hand: let pending work run, and look at a promise without awaiting it. */

/**
 * Lets pending promise chains run, the memory file system's included: each round waits for a macrotask
 * (setImmediate), so every microtask queued before it, and those they queue, have run.
 */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** Observes a promise without awaiting it: 'pending' until it settles. */
export function watch(p: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected' } {
  const w = { state: 'pending' as 'pending' | 'resolved' | 'rejected' }
  p.then(
    () => (w.state = 'resolved'),
    () => (w.state = 'rejected'),
  )
  return w
}

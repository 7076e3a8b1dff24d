/**
 * Lingering records and an idle process. kafkalite's timers never keep the host process alive, which
 * includes the `lingerMs` timer of an open batch. Without more, a script whose only remaining work is
 * `await producer.send(...)` would see Node exit (with an unsettled await) before the linger timer
 * fires. Node emits 'beforeExit' exactly when its event loop has run out of work; open producers then
 * close their open batches and append them at once, which is what the timer would have done a few
 * milliseconds later. Appending (and, for acks 'all', the fsync) is new work, so the process stays
 * up until those sends settle, then exits normally.
 *
 * One process listener is installed while at least one producer is open, and removed after the last
 * closes.
 */
const hooks = new Set<() => void>()

function onBeforeExit(): void {
  for (const hook of [...hooks]) hook()
}

/** Runs `hook` whenever the process is about to exit for lack of work; returns the unregistration. */
export function onProcessIdle(hook: () => void): () => void {
  if (hooks.size === 0) process.on('beforeExit', onBeforeExit)
  hooks.add(hook)
  return () => {
    if (hooks.delete(hook) && hooks.size === 0) process.off('beforeExit', onBeforeExit)
  }
}

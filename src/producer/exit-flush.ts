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
const hooks = new Set<() => boolean>()

/**
 * Node emits 'beforeExit' again only if the loop is alive after the listeners ran. Appending resolves
 * sends, and their awaiters may send more records, whose linger timers are unref'd again; without a
 * ref'd turn of the loop the process would exit with those sends unsettled. So whenever a hook did
 * work, one `setImmediate` keeps the loop alive for a turn, and the next idle moment comes back here,
 * until a round finds nothing lingering.
 */
function onBeforeExit(): void {
  let worked = false
  for (const hook of [...hooks]) worked = hook() || worked
  if (worked) setImmediate(() => {})
}

/**
 * Runs `hook` whenever the process is about to exit for lack of work (it returns whether it found
 * work to do); returns the unregistration.
 */
export function onProcessIdle(hook: () => boolean): () => void {
  if (hooks.size === 0) process.on('beforeExit', onBeforeExit)
  hooks.add(hook)
  return () => {
    if (hooks.delete(hook) && hooks.size === 0) process.off('beforeExit', onBeforeExit)
  }
}

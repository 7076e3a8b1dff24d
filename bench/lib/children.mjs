/** Runs a bench/child.mjs task in a fresh Node process and returns its result. */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('../child.mjs', import.meta.url))

/** Resolves with the child's result; with `expectKill`, resolves with null when the child SIGKILLs itself. */
export function runChild(task, { expectKill = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(task)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let message
    child.on('message', (m) => (message = m))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (expectKill && signal === 'SIGKILL') return resolve(null)
      if (message?.ok) return resolve(message.result)
      reject(new Error(`child ${task.kind} failed (exit ${code ?? signal}): ${message?.error ?? 'no result'}`))
    })
  })
}

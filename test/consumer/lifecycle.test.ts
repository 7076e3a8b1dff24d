import { describe, expect, it } from 'vitest'
import { ConsumerLifecycle, type ConsumerState } from '../../src/consumer/lifecycle'
import { AssertionError } from '../../src/util/assert'
import { expectSyncCode } from '../engine/helpers'

const LEGAL: [ConsumerState, ConsumerState][] = [
  ['ready', 'running'],
  ['ready', 'closing'],
  ['running', 'stopping'],
  ['running', 'ready'],
  ['running', 'closing'],
  ['stopping', 'ready'],
  ['stopping', 'closing'],
  ['closing', 'closed'],
]
const STATES: ConsumerState[] = ['ready', 'running', 'stopping', 'closing', 'closed']

/** A lifecycle driven into `state` through legal transitions. */
function at(state: ConsumerState): ConsumerLifecycle {
  const path: Record<ConsumerState, ConsumerState[]> = {
    ready: [],
    running: ['running'],
    stopping: ['running', 'stopping'],
    closing: ['closing'],
    closed: ['closing', 'closed'],
  }
  const lifecycle = new ConsumerLifecycle('Consumer test')
  for (const s of path[state]) lifecycle.transition(s)
  return lifecycle
}

describe('Consumer > lifecycle', () => {
  it('allows exactly the transitions in the table', () => {
    for (const from of STATES) {
      for (const to of STATES) {
        const lifecycle = at(from)
        const legal = LEGAL.some(([a, b]) => a === from && b === to)
        if (legal) expect(() => lifecycle.transition(to), `${from} -> ${to}`).not.toThrow()
        else expect(() => lifecycle.transition(to), `${from} -> ${to}`).toThrow(AssertionError)
      }
    }
  })

  it('closing refuses new work but still allows reads; closed refuses everything', () => {
    const closing = at('closing')
    expectSyncCode(() => closing.ensureActive(), 'ERR_CLOSED')
    expect(() => closing.ensureNotClosed()).not.toThrow()
    const closed = at('closed')
    expectSyncCode(() => closed.ensureNotClosed(), 'ERR_CLOSED')
  })

  it('a running or stopping loop owns polling', () => {
    expectSyncCode(() => at('running').ensureNotRunning('poll'), 'ERR_INVALID_STATE')
    expectSyncCode(() => at('stopping').ensureNotRunning('poll'), 'ERR_INVALID_STATE')
    expect(() => at('ready').ensureNotRunning('poll')).not.toThrow()
  })
})

/** The group state machine's table is Kafka's (ClassicGroupState's valid previous states); nothing else is legal. */
import { describe, expect, it } from 'vitest'
import { GroupStateMachine, isLegalGroupTransition, type GroupState } from '../../src/group/group-state'

const STATES: GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']
const LEGAL = new Set([
  'Empty>PreparingRebalance',
  'Empty>Dead',
  'PreparingRebalance>Empty',
  'PreparingRebalance>CompletingRebalance',
  'PreparingRebalance>Dead',
  'CompletingRebalance>PreparingRebalance',
  'CompletingRebalance>Stable',
  'CompletingRebalance>Dead',
  'Stable>PreparingRebalance',
  'Stable>Dead',
  'Dead>Dead',
])

describe('Consumer groups > state machine', () => {
  it("allows exactly Kafka's transitions", () => {
    for (const from of STATES) {
      for (const to of STATES) expect(isLegalGroupTransition(from, to), `${from} -> ${to}`).toBe(LEGAL.has(`${from}>${to}`))
    }
  })

  it('an illegal transition is an assertion failure (a kafkalite bug), and the state stays', () => {
    const machine = new GroupStateMachine('g', 'Empty', 0)
    expect(() => machine.transition('Stable', 1)).toThrow(/illegal group transition Empty -> Stable/)
    expect(machine.state).toBe('Empty')
    machine.transition('PreparingRebalance', 5)
    expect(machine.since).toBe(5)
  })
})

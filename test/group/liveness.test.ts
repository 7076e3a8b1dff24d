/**
 * Liveness in one process, on a manual clock: maxPollIntervalMs (the slow-consumer rebalance storm),
 * sessionTimeoutMs for detached static members, static membership without rebalances, fencing.
 *
 * A member's "heartbeat" is its open object (Kafka's heartbeat thread beats for a live consumer between
 * polls); only static members that closed or stopped polling have a session that can time out.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ConsumerRecord } from '../../src/consumer/types'
import type { GroupConsumer } from '../../src/group/member'
import { expectCode, openEnv, owned, pollAll, pollNow, produce, settle, values, type Env } from './helpers'

const MAX_POLL_INTERVAL_MS = 10_000
const STEP_MS = 1_000

/** Polls and commits what was polled; a commit refused by a rebalance is counted, not thrown. */
async function pollAndCommit(member: GroupConsumer, refused: string[]): Promise<ConsumerRecord[]> {
  const records = await pollNow(member)
  try {
    await member.commit()
  } catch (e) {
    refused.push((e as { code: string }).code)
  }
  return records
}

describe.each([
  { protocol: 'eager', strategy: 'range' as const },
  { protocol: 'cooperative', strategy: 'cooperative-sticky' as const },
])('Consumer groups > the slow-consumer rebalance storm ($protocol)', ({ protocol, strategy }) => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it(`a member whose processing outlasts maxPollIntervalMs is evicted and rejoins, over and over; ${protocol === 'eager' ? 'the others stop consuming while the group waits for it' : 'the others keep consuming throughout'}`, async () => {
    env = await openEnv()
    const { kl, clock } = env
    await kl.createTopic('t', { partitions: 6 })
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest', maxPollIntervalMs: MAX_POLL_INTERVAL_MS, sessionTimeoutMs: 10_000, partitionAssignmentStrategy: strategy })
    const lost: string[] = []
    const a = group.consumer({ topics: ['t'], clientId: 'a' })
    const b = group.consumer({ topics: ['t'], clientId: 'b' })
    const slow = group.consumer({ topics: ['t'], clientId: 's', listeners: { lost: (tps) => void lost.push(`${tps.length}`) } })
    const refused: string[] = []
    await pollAll([a, b, slow], 6)
    expect(group.state).toBe('Stable')

    // The timeline, one step per second. The slow member polls, then "processes" for 15 s before its next
    // poll (longer than maxPollIntervalMs), three times over. A scale-out joins a fourth member at 2 s,
    // while the slow member is busy: the group must rebalance and the slow member does not rejoin.
    const perStep: { step: number; fast: number; state: string; generation: number }[] = []
    const slowPolls = new Set([0, 15, 16, 17, 32, 33, 34])
    let scaleOut: GroupConsumer | undefined
    const slowCommitErrors: string[] = []
    let slowHad: ConsumerRecord[] = []
    const slowIds = new Set<string>()
    for (let step = 0; step < 45; step++) {
      for (let p = 0; p < 6; p++) produce(kl, 't', p, [`s${step}p${p}`], clock.now())
      if (step === 2) scaleOut = group.consumer({ topics: ['t'], clientId: 'd' })
      const state = group.state
      const fast = [...(await pollAndCommit(a, refused)), ...(await pollAndCommit(b, refused))]
      if (scaleOut !== undefined) await pollAndCommit(scaleOut, refused)
      if (slowPolls.has(step)) {
        // The slow member finishes the previous batch: its commit fails if it was evicted meanwhile.
        if (slowHad.length > 0) {
          try {
            await slow.commit(slowHad.length > 0 ? undefined : [])
          } catch (e) {
            slowCommitErrors.push((e as { code: string }).code)
          }
        }
        slowHad = await pollNow(slow)
      }
      perStep.push({ step, fast: fast.length, state, generation: a.generation })
      if (slow.memberId !== null) slowIds.add(slow.memberId)
      clock.advance(STEP_MS)
    }

    // The storm: the slow member was evicted (its poll interval expired) and rejoined as a new member, repeatedly.
    expect(slowIds.size).toBeGreaterThanOrEqual(3)
    expect(lost.length).toBeGreaterThanOrEqual(1)
    expect(slowCommitErrors.length).toBeGreaterThanOrEqual(1)
    expect(slowCommitErrors.every((c) => c === 'ERR_UNKNOWN_MEMBER')).toBe(true)
    expect(a.generation).toBeGreaterThanOrEqual(6)

    const rebalancing = perStep.filter((s) => s.state !== 'Stable')
    expect(rebalancing.length).toBeGreaterThan(0)
    if (protocol === 'eager') {
      // Stop-the-world: from the scale-out at 2 s until the slow member's eviction at 10 s, the fast
      // members own nothing and consume nothing.
      const stalled = perStep.filter((s) => s.step >= 3 && s.step <= 9)
      expect(stalled.every((s) => s.fast === 0 && s.state === 'PreparingRebalance')).toBe(true)
    } else {
      // The fast members consumed new records in every single step, rebalances included.
      expect(perStep.filter((s) => s.fast === 0)).toEqual([])
      expect(rebalancing.every((s) => s.fast > 0)).toBe(true)
    }
  })
})

describe('Consumer groups > liveness', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('a member that stops polling for maxPollIntervalMs leaves; its next poll reports its partitions lost and rejoins as a new member', async () => {
    env = await openEnv()
    const { kl, clock } = env
    await kl.createTopic('t', { partitions: 2 })
    const lost: string[][] = []
    const group = kl.consumerGroup('g', { maxPollIntervalMs: MAX_POLL_INTERVAL_MS })
    const a = group.consumer({ topics: ['t'] })
    const slow = group.consumer({ topics: ['t'], listeners: { lost: (tps) => void lost.push(tps.map((t) => `${t.partition}`)) } })
    await pollAll([a, slow], 4)
    const oldId = slow.memberId
    const mine = owned(slow)
    expect(mine).toHaveLength(1)
    clock.advance(MAX_POLL_INTERVAL_MS - 1)
    await pollNow(a)
    expect(group.describe().members).toHaveLength(2)
    clock.advance(1)
    expect(group.describe().members.map((m) => m.memberId)).toEqual([a.memberId])
    await expectCode(() => slow.commit(), 'ERR_UNKNOWN_MEMBER')
    await pollAll([a], 2)
    expect(owned(a)).toEqual(['t-0', 't-1'])
    await pollAll([slow, a], 4)
    expect(lost).toEqual([mine.map((tp) => tp.split('-')[1]!)])
    expect(slow.memberId).not.toBe(oldId)
    expect(owned(a).length + owned(slow).length).toBe(2)
  })

  it('a poll that is waiting counts as polling: the member stays however long it waits', async () => {
    env = await openEnv()
    const { kl, clock } = env
    await kl.createTopic('t')
    const group = kl.consumerGroup('g', { maxPollIntervalMs: MAX_POLL_INTERVAL_MS })
    const a = group.consumer({ topics: ['t'] })
    await pollAll([a], 2)
    const waiting = a.poll({ timeoutMs: 3 * MAX_POLL_INTERVAL_MS })
    await settle()
    clock.advance(3 * MAX_POLL_INTERVAL_MS)
    expect(await waiting).toEqual([])
    expect(group.describe().members.map((m) => m.memberId)).toEqual([a.memberId])
    expect(group.state).toBe('Stable')
  })
})

describe('Consumer groups > static membership', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  async function staticGroup(sessionTimeoutMs = 10_000) {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 4 })
    for (let p = 0; p < 4; p++) produce(kl, 't', p, [`r${p}`])
    const events: string[] = []
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest', sessionTimeoutMs, maxPollIntervalMs: MAX_POLL_INTERVAL_MS })
    const other = group.consumer({ topics: ['t'], groupInstanceId: 'other', listeners: { revoked: (tps) => void events.push(`other revoked ${tps.length}`) } })
    const s1 = group.consumer({ topics: ['t'], groupInstanceId: 'worker-1' })
    await pollAll([other, s1], 5)
    await other.commit()
    await s1.commit()
    events.length = 0
    return { kl, group, other, s1, events }
  }

  it('a static member that closes and comes back within sessionTimeoutMs gets its partitions back; the others never rebalance', async () => {
    const { group, other, s1, events } = await staticGroup()
    const partitions = owned(s1)
    const generation = group.describe().generation
    await s1.close()
    expect(group.state).toBe('Stable')
    expect(group.describe().members.find((m) => m.groupInstanceId === 'worker-1')).toMatchObject({ status: 'detached', assignment: expect.any(Array) })
    env.clock.advance(9_000)
    produce(env.kl, 't', Number(owned(other)[0]!.split('-')[1]), ['while-away'])
    const back = group.consumer({ topics: ['t'], groupInstanceId: 'worker-1' })
    const got = await pollAll([other, back], 3)
    expect(owned(back)).toEqual(partitions)
    expect(group.describe().generation).toBe(generation)
    expect(events).toEqual([]) // no revocation anywhere
    expect(values(got.get(other)!)).toEqual(['while-away'])
    expect(group.describe().members.find((m) => m.groupInstanceId === 'worker-1')!.status).toBe('active')
  })

  it('a static member that stays away longer than sessionTimeoutMs is removed, and the group rebalances its partitions', async () => {
    const { group, other, s1, events } = await staticGroup()
    await s1.close()
    env.clock.advance(10_000)
    expect(group.state).toBe('PreparingRebalance')
    await pollAll([other], 4)
    expect(owned(other)).toEqual(['t-0', 't-1', 't-2', 't-3'])
    expect(group.describe().members.map((m) => m.groupInstanceId)).toEqual(['other'])
    expect(events).toEqual([])
  })

  it('a static member that stops polling keeps its place for sessionTimeoutMs, and its next poll resumes without a rebalance', async () => {
    const { group, other, s1, events } = await staticGroup(20_000)
    const generation = group.describe().generation
    env.clock.advance(MAX_POLL_INTERVAL_MS) // s1 polls no more: poll timeout
    await pollNow(other)
    expect(group.describe().members.find((m) => m.groupInstanceId === 'worker-1')!.status).toBe('detached')
    expect(group.state).toBe('Stable')
    env.clock.advance(5_000)
    await pollAll([s1, other], 3)
    expect(group.describe().generation).toBe(generation)
    expect(owned(s1)).toHaveLength(2)
    expect(events).toEqual([])
    await s1.commit()
  })

  it('a second object with the same groupInstanceId fences the first: its polls and commits fail with ERR_FENCED_INSTANCE_ID', async () => {
    const { group, other, s1 } = await staticGroup()
    const partitions = owned(s1)
    const twin = group.consumer({ topics: ['t'], groupInstanceId: 'worker-1' })
    await pollAll([twin, other], 3)
    expect(owned(twin)).toEqual(partitions)
    await expectCode(() => s1.poll({ timeoutMs: 0 }), 'ERR_FENCED_INSTANCE_ID')
    await expectCode(() => s1.commit(), 'ERR_FENCED_INSTANCE_ID')
    expect(group.describe().members).toHaveLength(2)
  })
})

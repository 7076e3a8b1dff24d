/**
 * Assignor properties, checked on seeded random groups (the seed is printed; rerun with KAFKALITE_SEED):
 *   - every partition of a subscribed, existing topic is owned by exactly one member, and only by a
 *     member subscribed to its topic; nothing else is assigned;
 *   - with identical subscriptions, roundrobin and both sticky assignors are balanced within one (range
 *     within one per topic);
 *   - sticky keeps the most partitions any balanced assignment can keep (min(owned, quota) per member,
 *     larger quotas to the members that owned most), and with different subscriptions no partition can
 *     move to an eligible member with two fewer;
 *   - cooperative-sticky never hands out a partition another current member still owns, and its
 *     follow-up round completes the same balanced, sticky assignment;
 *   - the result does not depend on the order members are listed in.
 */
import { describe, expect, it } from 'vitest'
import type { AssignmentStrategy } from '../../src/config/consumer-config'
import { ASSIGNORS, selectAssignor, type Assignment, type AssignorInput, type MemberSubscription } from '../../src/group/assignor'
import { keyOf, type TopicPartition } from '../../src/group/topic-partition'
import { rng, testSeed, type Rng } from './random'

const ALL: AssignmentStrategy[] = ['range', 'roundrobin', 'sticky', 'cooperative-sticky']

function member(id: string, topics: string[], owned: TopicPartition[] = [], generation = owned.length > 0 ? 1 : -1, instance: string | null = null): MemberSubscription {
  return { memberId: id, groupInstanceId: instance, topics, ownedPartitions: owned, generation }
}

const tps = (topic: string, ...partitions: number[]) => partitions.map((partition) => ({ topic, partition }))
const counts = (a: Assignment) => [...a.values()].map((l) => l.length)
const spread = (a: Assignment) => Math.max(...counts(a)) - Math.min(...counts(a))

/** Throws unless each partition of a subscribed, existing topic has exactly one eligible owner. */
function checkExactlyOnce(input: AssignorInput, a: Assignment, { complete = true } = {}): void {
  expect([...a.keys()].sort()).toEqual(input.members.map((m) => m.memberId).sort())
  const owners = new Map<string, string>()
  for (const [memberId, list] of a) {
    const m = input.members.find((x) => x.memberId === memberId)!
    for (const tp of list) {
      expect(m.topics, `${memberId} got ${keyOf(tp)} without subscribing`).toContain(tp.topic)
      expect(tp.partition).toBeLessThan(input.partitionsPerTopic.get(tp.topic)!)
      expect(owners.has(keyOf(tp)), `${keyOf(tp)} assigned twice`).toBe(false)
      owners.set(keyOf(tp), memberId)
    }
  }
  if (!complete) return
  for (const [topic, n] of input.partitionsPerTopic) {
    if (!input.members.some((m) => m.topics.includes(topic))) continue
    for (let p = 0; p < n; p++) expect(owners.has(`${topic}:${p}`), `${topic}:${p} unassigned`).toBe(true)
  }
}

function randomTopics(r: Rng): Map<string, number> {
  const topics = new Map<string, number>()
  const n = 1 + r.int(4)
  for (let i = 0; i < n; i++) topics.set(`t${i}`, 1 + r.int(12))
  return topics
}

function randomMembers(r: Rng, topics: string[], homogeneous: boolean, prefix = 'm'): MemberSubscription[] {
  const n = 1 + r.int(9)
  return Array.from({ length: n }, (_, i) => {
    const subs = homogeneous ? topics : r.shuffle(topics).slice(0, 1 + r.int(topics.length))
    const instance = r.int(3) === 0 ? `i-${prefix}${i}` : null
    return member(`${prefix}${i}-${r.int(1000)}`, [...subs, ...(r.int(5) === 0 ? ['missing'] : [])], [], -1, instance)
  })
}

/** The most partitions a balanced assignment with identical subscriptions can leave with their owners. */
function maxKept(total: number, owned: number[]): number {
  const floor = Math.floor(total / owned.length)
  const extra = total % owned.length
  return [...owned].sort((a, b) => b - a).reduce((sum, o, i) => sum + Math.min(o, floor + (i < extra ? 1 : 0)), 0)
}

function kept(previous: Map<string, TopicPartition[]>, next: Assignment): number {
  let n = 0
  for (const [id, list] of next) {
    const before = new Set((previous.get(id) ?? []).map(keyOf))
    n += list.filter((tp) => before.has(keyOf(tp))).length
  }
  return n
}

describe('Assignors > known assignments (Kafka javadoc examples)', () => {
  const input: AssignorInput = {
    members: [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])],
    partitionsPerTopic: new Map([['t0', 3], ['t1', 3]]),
  }

  it('range gives each member a contiguous range per topic, extras to the first member', () => {
    const a = ASSIGNORS.range.assign(input)
    expect(a.get('C0')).toEqual([...tps('t0', 0, 1), ...tps('t1', 0, 1)])
    expect(a.get('C1')).toEqual([...tps('t0', 2), ...tps('t1', 2)])
  })

  it('roundrobin deals all partitions in turn', () => {
    const a = ASSIGNORS.roundrobin.assign(input)
    expect(a.get('C0')).toEqual([...tps('t0', 0, 2), ...tps('t1', 1)])
    expect(a.get('C1')).toEqual([...tps('t0', 1), ...tps('t1', 0, 2)])
  })

  it('static members sort before dynamic ones, by instance id', () => {
    const a = ASSIGNORS.range.assign({
      members: [member('a-dynamic', ['t']), member('z-static', ['t'], [], -1, 'instance-1')],
      partitionsPerTopic: new Map([['t', 3]]),
    })
    expect(a.get('z-static')).toEqual(tps('t', 0, 1))
  })

  it('sticky keeps what a member owned when a member joins, moving only what balance needs', () => {
    const before = ASSIGNORS.sticky.assign({ members: [member('a', ['t']), member('b', ['t'])], partitionsPerTopic: new Map([['t', 6]]) })
    const after = ASSIGNORS.sticky.assign({
      members: [member('a', ['t'], before.get('a')!), member('b', ['t'], before.get('b')!), member('c', ['t'])],
      partitionsPerTopic: new Map([['t', 6]]),
    })
    expect(counts(after)).toEqual([2, 2, 2])
    expect(kept(before, after)).toBe(4)
  })

  it('cooperative-sticky withholds a moving partition until its owner has revoked it', () => {
    const partitionsPerTopic = new Map([['t', 4]])
    const phase1 = ASSIGNORS['cooperative-sticky'].assign({
      members: [member('a', ['t'], tps('t', 0, 1, 2, 3)), member('b', ['t'])],
      partitionsPerTopic,
    })
    expect(phase1.get('b')).toEqual([])
    expect(phase1.get('a')).toHaveLength(2)
    const phase2 = ASSIGNORS['cooperative-sticky'].assign({
      members: [member('a', ['t'], phase1.get('a')!, 2), member('b', ['t'], [], 2)],
      partitionsPerTopic,
    })
    expect(phase2.get('a')).toEqual(phase1.get('a'))
    expect(phase2.get('b')).toHaveLength(2)
  })

  it('a claim from a newer generation wins over a stale one', () => {
    const a = ASSIGNORS.sticky.assign({
      members: [member('old', ['t'], tps('t', 0, 1), 3), member('new', ['t'], tps('t', 0), 4)],
      partitionsPerTopic: new Map([['t', 2]]),
    })
    expect(a.get('new')).toEqual(tps('t', 0))
    expect(a.get('old')).toEqual(tps('t', 1))
  })

  it('more members than partitions: the extras get nothing', () => {
    const members = Array.from({ length: 8 }, (_, i) => member(`m${i}`, ['t']))
    for (const name of ALL) {
      const a = ASSIGNORS[name].assign({ members, partitionsPerTopic: new Map([['t', 6]]) })
      expect(counts(a).filter((c) => c === 0), name).toHaveLength(2)
      expect(counts(a).filter((c) => c === 1), name).toHaveLength(6)
    }
  })
})

describe('Assignors > protocol selection', () => {
  it('picks the strategy every member supports with the most first-choice votes', () => {
    expect(selectAssignor([['range', 'cooperative-sticky'], ['cooperative-sticky', 'range'], ['cooperative-sticky']])?.name).toBe('cooperative-sticky')
    expect(selectAssignor([['range', 'roundrobin'], ['roundrobin', 'range'], ['range']])?.name).toBe('range')
  })

  it('finds none when the members share no strategy', () => {
    expect(selectAssignor([['range'], ['roundrobin']])).toBeUndefined()
  })
})

describe('Assignors > properties on random groups', () => {
  const seed = testSeed('assignors')
  const r = rng(seed)
  const ROUNDS = 300

  it.each(ALL)('%s assigns every subscribed partition to exactly one subscribed member', (name) => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const input = { members: randomMembers(r, [...topics.keys()], r.int(2) === 0), partitionsPerTopic: topics }
      checkExactlyOnce(input, ASSIGNORS[name].assign(input))
    }
  })

  it.each(['roundrobin', 'sticky', 'cooperative-sticky'] as const)('%s is balanced within one when subscriptions are identical', (name) => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const input = { members: randomMembers(r, [...topics.keys()], true), partitionsPerTopic: topics }
      expect(spread(ASSIGNORS[name].assign(input)), `seed ${seed} round ${round}`).toBeLessThanOrEqual(1)
    }
  })

  it('range is balanced within one per topic', () => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const input = { members: randomMembers(r, [...topics.keys()], r.int(2) === 0), partitionsPerTopic: topics }
      const a = ASSIGNORS.range.assign(input)
      for (const topic of topics.keys()) {
        const perMember = input.members.filter((m) => m.topics.includes(topic)).map((m) => a.get(m.memberId)!.filter((tp) => tp.topic === topic).length)
        if (perMember.length > 0) expect(Math.max(...perMember) - Math.min(...perMember)).toBeLessThanOrEqual(1)
      }
    }
  })

  it('sticky keeps the most partitions a balanced assignment can keep after members join and leave', () => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const names = [...topics.keys()]
      const first = randomMembers(r, names, true, 'a')
      const before = ASSIGNORS.sticky.assign({ members: first, partitionsPerTopic: topics })
      // Some members leave, some join; a topic may gain partitions.
      const staying = first.filter(() => r.int(3) !== 0)
      const joining = randomMembers(r, names, true, 'b').slice(0, r.int(4))
      const grown = new Map([...topics].map(([t, n]) => [t, r.int(4) === 0 ? n + 1 + r.int(3) : n]))
      const members = [...staying.map((m) => member(m.memberId, names, before.get(m.memberId)!, 1, m.groupInstanceId)), ...joining]
      if (members.length === 0) continue
      const after = ASSIGNORS.sticky.assign({ members, partitionsPerTopic: grown })
      const total = [...grown.values()].reduce((s, n) => s + n, 0)
      const owned = members.map((m) => m.ownedPartitions.length)
      expect(kept(before, after), `seed ${seed} round ${round}`).toBe(maxKept(total, owned))
      expect(spread(after)).toBeLessThanOrEqual(1)
    }
  })

  it('sticky with different subscriptions leaves no partition that could move to a member with two fewer', () => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const input = { members: randomMembers(r, [...topics.keys()], false), partitionsPerTopic: topics }
      const a = ASSIGNORS.sticky.assign(input)
      for (const [owner, list] of a) {
        for (const tp of list) {
          for (const other of input.members.filter((m) => m.topics.includes(tp.topic))) {
            expect(a.get(other.memberId)!.length + 1, `seed ${seed} round ${round}: ${keyOf(tp)} ${owner}→${other.memberId}`).toBeGreaterThanOrEqual(list.length)
          }
        }
      }
    }
  })

  it('cooperative-sticky never assigns a partition another member still owns, and its second round completes the sticky result', () => {
    for (let round = 0; round < ROUNDS; round++) {
      const topics = randomTopics(r)
      const names = [...topics.keys()]
      const first = randomMembers(r, names, true, 'a')
      const gen1 = ASSIGNORS['cooperative-sticky'].assign({ members: first, partitionsPerTopic: topics })
      const joining = randomMembers(r, names, true, 'b').slice(0, 1 + r.int(3))
      const staying = first.filter(() => r.int(4) !== 0)
      const members = [...staying.map((m) => member(m.memberId, names, gen1.get(m.memberId)!, 1)), ...joining]
      const input = { members, partitionsPerTopic: topics }
      const phase1 = ASSIGNORS['cooperative-sticky'].assign(input)
      checkExactlyOnce(input, phase1, { complete: false })
      for (const [id, list] of phase1) {
        for (const tp of list) {
          const claimant = members.find((m) => m.memberId !== id && m.ownedPartitions.some((o) => keyOf(o) === keyOf(tp)))
          expect(claimant, `seed ${seed} round ${round}: ${keyOf(tp)} given to ${id} while ${claimant?.memberId} owns it`).toBeUndefined()
        }
      }
      // Round two: every member reports exactly what it now owns (revoked partitions are gone).
      const input2 = { members: members.map((m) => member(m.memberId, names, phase1.get(m.memberId)!, 2)), partitionsPerTopic: topics }
      const phase2 = ASSIGNORS['cooperative-sticky'].assign(input2)
      checkExactlyOnce(input2, phase2)
      expect(spread(phase2), `seed ${seed} round ${round}`).toBeLessThanOrEqual(1)
      expect(kept(phase1 as Map<string, TopicPartition[]>, phase2)).toBe(counts(phase1).reduce((s, n) => s + n, 0))
      const sticky = ASSIGNORS.sticky.assign(input)
      expect(kept(new Map(members.map((m) => [m.memberId, [...m.ownedPartitions]])), phase2)).toBe(kept(new Map(members.map((m) => [m.memberId, [...m.ownedPartitions]])), sticky))
    }
  })

  it.each(ALL)('%s gives the same assignment whatever order the members are listed in', (name) => {
    for (let round = 0; round < 100; round++) {
      const topics = randomTopics(r)
      const members = randomMembers(r, [...topics.keys()], r.int(2) === 0)
      const a = ASSIGNORS[name].assign({ members, partitionsPerTopic: topics })
      const b = ASSIGNORS[name].assign({ members: r.shuffle(members), partitionsPerTopic: topics })
      expect(new Map([...b].sort())).toEqual(new Map([...a].sort()))
    }
  })
})

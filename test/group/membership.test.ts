/**
 * Membership and rebalancing: joins, generations, the eager and cooperative protocols, listeners, idle
 * members, and the rebalance triggers (join, leave, new partitions, a pattern matching a new topic).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupConsumer } from '../../src/group/member'
import { expectCode, openEnv, owned, pollAll, pollNow, produce, settle, values, type Env } from './helpers'

describe('Consumer groups > membership', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it("a member's first poll joins the group: generation 1, Stable, every partition, consumed from autoOffsetReset", async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('orders', { partitions: 3 })
    for (let p = 0; p < 3; p++) produce(kl, 'orders', p, [`x${p}`])
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    expect(group.state).toBe('Dead') // no such group yet
    const a = group.consumer({ topics: ['orders'] })
    expect(a.memberId).toBeNull()
    const got = [...(await pollNow(a)), ...(await pollNow(a))]
    expect(values(got).sort()).toEqual(['x0', 'x1', 'x2'])
    expect(a.memberId).not.toBeNull()
    expect(a.generation).toBe(1)
    expect(owned(a)).toEqual(['orders-0', 'orders-1', 'orders-2'])
    const d = group.describe()
    expect(d).toMatchObject({ state: 'Stable', generation: 1, assignor: 'cooperative-sticky', leader: a.memberId })
    expect(d.members).toHaveLength(1)
  })

  it('cooperative-sticky: a joining member takes partitions in two rounds while the first keeps consuming the rest', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 4 })
    const events: string[] = []
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const listeners = (name: string, member: () => GroupConsumer) => ({
      assigned: (tps: { partition: number }[]) => void events.push(`${name} assigned ${tps.map((t) => t.partition).join(',')}`),
      revoked: (tps: { topic: string; partition: number }[]) => {
        // Called before the partitions are taken away: the member still owns them.
        expect(member().ownedPartitions()).toEqual(expect.arrayContaining(tps))
        events.push(`${name} revoked ${tps.map((t) => t.partition).join(',')}`)
      },
    })
    const a: GroupConsumer = group.consumer({ topics: ['t'], listeners: listeners('a', () => a) })
    await pollAll([a], 2)
    expect(owned(a)).toHaveLength(4)
    const b: GroupConsumer = group.consumer({ topics: ['t'], listeners: listeners('b', () => b) })
    await pollNow(b) // b joins: the group prepares a rebalance
    expect(group.state).toBe('PreparingRebalance')
    // During the rebalance, a still owns and consumes all four partitions.
    for (let p = 0; p < 4; p++) produce(kl, 't', p, [`during${p}`])
    const during = await pollNow(a)
    expect(values(during).sort()).toEqual(['during0', 'during1', 'during2', 'during3'])
    await pollAll([a, b], 4)
    expect(group.state).toBe('Stable')
    expect(owned(a)).toHaveLength(2)
    expect(owned(b)).toHaveLength(2)
    expect(a.generation).toBe(3) // 2: a revokes two partitions, 3: b gets them
    expect(events).toEqual(['a assigned 0,1,2,3', 'a revoked 2,3', 'a assigned ', 'b assigned ', 'a assigned ', 'b assigned 2,3'])
  })

  it('eager (range): every member revokes everything before it rejoins, and gets nothing while the group rebalances', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 4 })
    const revoked: string[] = []
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest', partitionAssignmentStrategy: 'range' })
    // Range orders members by member id, which starts with the client id.
    const a = group.consumer({ topics: ['t'], clientId: 'a', listeners: { revoked: (tps) => void revoked.push(`a:${tps.length}`) } })
    await pollAll([a], 2)
    expect(a.rebalanceProtocol).toBe('eager')
    const b = group.consumer({ topics: ['t'], clientId: 'b' })
    await pollNow(b)
    for (let p = 0; p < 4; p++) produce(kl, 't', p, [`during${p}`])
    // a's next poll revokes all four partitions and rejoins: nothing is consumed until the rebalance completes.
    expect(await pollNow(a)).toEqual([])
    expect(revoked).toEqual(['a:4'])
    expect(owned(a)).toEqual([])
    await pollAll([a, b], 3)
    expect(group.state).toBe('Stable')
    expect(owned(a)).toEqual(['t-0', 't-1'])
    expect(owned(b)).toEqual(['t-2', 't-3'])
    expect(a.generation).toBe(2)
  })

  it('six partitions and eight members: six get one partition each, two are idle, and describe shows them idle', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 6 })
    for (let p = 0; p < 6; p++) produce(kl, 't', p, [`r${p}`])
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const members = Array.from({ length: 8 }, () => group.consumer({ topics: ['t'] }))
    const got = await pollAll(members, 6)
    expect(group.state).toBe('Stable')
    const counts = members.map((m) => m.ownedPartitions().length).sort()
    expect(counts).toEqual([0, 0, 1, 1, 1, 1, 1, 1])
    // Every record was consumed (nothing is committed here, so a partition that moved is read again by its new owner).
    expect(new Set([...got.values()].flatMap(values))).toEqual(new Set(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']))
    const d = group.describe()
    expect(d.members).toHaveLength(8)
    expect(d.members.filter((m) => m.idle)).toHaveLength(2)
    expect(d.members.filter((m) => m.idle).every((m) => m.assignment.length === 0)).toBe(true)
    expect(new Set(d.partitions.map((p) => p.owner)).size).toBe(6)
  })

  it("a member that closes leaves: its partitions go to the others, and the last one leaving stores an Empty group", async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 2 })
    const group = kl.consumerGroup('g')
    const a = group.consumer({ topics: ['t'] })
    const b = group.consumer({ topics: ['t'] })
    await pollAll([a, b], 4)
    expect(owned(a)).toHaveLength(1)
    const generation = a.generation
    await b.close()
    expect(group.state).toBe('PreparingRebalance')
    await pollAll([a], 3)
    expect(owned(a)).toEqual(['t-0', 't-1'])
    expect(a.generation).toBeGreaterThan(generation)
    await a.close()
    await settle()
    expect(group.state).toBe('Empty')
    expect(group.describe()).toMatchObject({ state: 'Empty', members: [], assignor: null })
  })

  it('a subscribed topic that gains partitions triggers a rebalance that assigns them', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 2 })
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const a = group.consumer({ topics: ['t'] })
    await pollAll([a], 2)
    const generation = a.generation
    await kl.createPartitions('t', 4)
    produce(kl, 't', 3, ['new-partition'])
    const got = await pollAll([a], 3)
    expect(owned(a)).toEqual(['t-0', 't-1', 't-2', 't-3'])
    expect(a.generation).toBeGreaterThan(generation)
    expect(values(got.get(a)!)).toEqual(['new-partition'])
  })

  it('a pattern subscription picks up a topic created later, and never internal topics', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('metrics.cpu')
    await kl.createTopic('logs')
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const a = group.consumer({ pattern: /^metrics\./ })
    await pollAll([a], 2)
    expect(owned(a)).toEqual(['metrics.cpu-0'])
    await kl.createTopic('metrics.disk')
    produce(kl, 'metrics.disk', 0, ['disk'])
    const got = await pollAll([a], 3)
    expect(owned(a)).toEqual(['metrics.cpu-0', 'metrics.disk-0'])
    expect(values(got.get(a)!)).toEqual(['disk'])
    const all = group.consumer({ pattern: /.*/ })
    await pollAll([a, all], 4)
    expect([...owned(a), ...owned(all)].some((tp) => tp.startsWith('__consumer_offsets'))).toBe(false)
  })

  it('a member whose assignors share none with the group is refused (ERR_INCONSISTENT_GROUP_PROTOCOL) and the group is unchanged', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t')
    const group = kl.consumerGroup('g')
    const a = group.consumer({ topics: ['t'], partitionAssignmentStrategy: 'range' })
    await pollAll([a], 2)
    const before = group.describe()
    const b = group.consumer({ topics: ['t'], partitionAssignmentStrategy: ['roundrobin'] })
    await expectCode(() => pollNow(b), 'ERR_INCONSISTENT_GROUP_PROTOCOL')
    expect(group.describe()).toEqual(before)
  })

  it('handles for the same group id share one group', async () => {
    env = await openEnv()
    const { kl } = env
    await kl.createTopic('t', { partitions: 2 })
    const a = kl.consumerGroup('g').consumer({ topics: ['t'] })
    const b = kl.consumerGroup('g').consumer({ topics: ['t'] })
    await pollAll([a, b], 4)
    expect(owned(a)).toHaveLength(1)
    expect(owned(b)).toHaveLength(1)
    expect(kl.listGroups()).toEqual([{ groupId: 'g', state: 'Stable', protocolType: 'consumer', members: 2 }])
  })
})

describe('Consumer groups > rebalance timing', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('an empty group waits groupInitialRebalanceDelayMs before its first rebalance completes, so members started together share one', async () => {
    env = await openEnv({ groupInitialRebalanceDelayMs: 3000 })
    await env.kl.createTopic('t', { partitions: 2 })
    const group = env.kl.consumerGroup('g')
    const a = group.consumer({ topics: ['t'] })
    const b = group.consumer({ topics: ['t'] })
    await pollAll([a, b], 2)
    expect(group.state).toBe('PreparingRebalance')
    env.clock.advance(3000)
    await pollAll([a, b], 2)
    expect(group.state).toBe('Stable')
    expect(a.generation).toBe(1)
    expect(owned(a).length + owned(b).length).toBe(2)
    expect(owned(a)).toHaveLength(1)
  })

  it('a rebalance waits at most the rebalance timeout for a detached static member, which keeps its place and gets an assignment', async () => {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 4 })
    const group = env.kl.consumerGroup('g', { maxPollIntervalMs: 5000, sessionTimeoutMs: 60_000 })
    const dynamic = group.consumer({ topics: ['t'] })
    const away = group.consumer({ topics: ['t'], groupInstanceId: 'away' })
    await pollAll([dynamic, away], 4)
    await away.close() // detached for up to 60 s
    const joiner = group.consumer({ topics: ['t'] })
    await pollAll([dynamic, joiner], 3)
    expect(group.state).toBe('PreparingRebalance') // waiting for 'away'
    for (let s = 0; s < 5; s++) {
      env.clock.advance(1000) // the live members keep polling meanwhile
      await pollAll([dynamic, joiner], 1)
    }
    await pollAll([dynamic, joiner], 3)
    expect(group.state).toBe('Stable')
    const d = group.describe()
    expect(d.members.map((m) => m.status).sort()).toEqual(['active', 'active', 'detached'])
    expect(d.members.find((m) => m.groupInstanceId === 'away')!.assignment.length).toBeGreaterThan(0)
  })

  it('closing a group handle closes every member it created', async () => {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 2 })
    const group = env.kl.consumerGroup('g')
    const members = [group.consumer({ topics: ['t'] }), group.consumer({ topics: ['t'] })]
    await pollAll(members, 4)
    await group.close()
    await settle()
    expect(members.map((m) => m.state)).toEqual(['closed', 'closed'])
    expect(group.state).toBe('Empty')
  })
})

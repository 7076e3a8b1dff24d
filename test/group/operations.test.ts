/**
 * Operating groups: describe (lag, and lag against retention), the retention incident (a lagging group's
 * data deleted is reported, never silent), listGroups, deleteGroup, resetOffsets, and offsets expiry.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupConsumer } from '../../src/group/member'
import { expectCode, openEngineEnv, openEnv, pollAll, pollNow, produce, settle, T0, values, type EngineEnv, type Env } from './helpers'

describe('Consumer groups > describe and lag against retention', () => {
  let env: EngineEnv
  afterEach(async () => env?.engine.close())

  /** A topic of single-record batches, two per segment, one record per second from T0. */
  async function laggingGroup(retentionMs = 60_000) {
    env = await openEngineEnv()
    await env.engine.createTopic('events', { segmentBytes: 160, retentionMs })
    for (let i = 0; i < 10; i++) env.produce('events', 0, [`e${i}`], T0 + i * 1000)
    const group = env.group('reports', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['events'] })
    await pollAll([member], 1)
    await settle()
    await pollNow(member, 2) // reads e0, e1
    await member.commit()
    await member.close()
    await settle()
    return { group, log: env.engine.log('events', 0) }
  }

  it('describe reports committed offset, log end, lag, the age of the oldest unconsumed record and the time retention leaves it', async () => {
    const { group, log } = await laggingGroup()
    expect(log.segmentCount).toBeGreaterThanOrEqual(4)
    env.clock.advance(20_000)
    const [p] = group.describe().partitions
    const segmentOfOffset2 = [...log.segmentList].reverse().find((s) => s.baseOffset <= 2)!
    expect(p).toMatchObject({
      topic: 'events',
      partition: 0,
      owner: null,
      committedOffset: 2,
      logStartOffset: 0,
      highWatermark: 10,
      logEndOffset: 10,
      lag: 8,
      oldestUnconsumedTimestamp: T0 + 2000,
      oldestUnconsumedAgeMs: 20_000 - 2000,
      retentionTimeLeftMs: segmentOfOffset2.largestTimestamp + 60_000 - env.clock.now(),
      recordsLostToRetention: 0,
      skippedRecords: 0,
    })
    expect(p!.retentionTimeLeftMs).toBe(T0 + 3000 + 60_000 - env.clock.now())
    expect(group.describe().totalLag).toBe(8)
    // The number to alert on shrinks as the group stays behind.
    env.clock.advance(40_000)
    expect(group.describe().partitions[0]!.retentionTimeLeftMs).toBe(3000)
  })

  it('size-based retention is reported as the bytes that may still be appended before the record goes', async () => {
    env = await openEngineEnv()
    await env.engine.createTopic('events', { segmentBytes: 160, retentionMs: -1, retentionBytes: 1000 })
    for (let i = 0; i < 6; i++) env.produce('events', 0, [`e${i}`])
    const group = env.group('g', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['events'] })
    await pollAll([member], 2)
    await member.commit([{ topic: 'events', partition: 0, offset: 0 }])
    const log = env.engine.log('events', 0)
    const first = log.segmentList[0]!
    const p = group.describe().partitions[0]!
    expect(p.retentionTimeLeftMs).toBeNull()
    expect(p.retentionBytesLeft).toBe(1000 - (log.size - first.size))
  })

  it('a compacted topic never deletes by retention: no retention numbers', async () => {
    env = await openEngineEnv()
    await env.engine.createTopic('state', { cleanupPolicy: 'compact' })
    env.produce('state', 0, ['a', 'b'])
    const group = env.group('g', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['state'] })
    await pollAll([member], 2)
    await member.commit([{ topic: 'state', partition: 0, offset: 1 }])
    expect(group.describe().partitions[0]).toMatchObject({ lag: 1, retentionTimeLeftMs: null, retentionBytesLeft: null })
  })

  /**
   * 75 s after the records were written, time retention (60 s) has expired every closed segment: the
   * engine's cleaner deletes them at its next pass. Where no cleaner runs, its storage step does it here.
   */
  async function retentionPasses(log: ReturnType<EngineEnv['engine']['log']>): Promise<void> {
    env.clock.advance(75_000)
    await settle()
    if (log.logStartOffset < 8) log.removeOldestSegments(log.segmentCount - 1)
    expect(log.logStartOffset).toBe(8)
  }

  it('retention deleting a lagging group\'s unconsumed records is reported: in describe, and by a reset event with the count under "earliest"', async () => {
    const { group, log } = await laggingGroup()
    await retentionPasses(log)
    const before = group.describe().partitions[0]!
    expect(before).toMatchObject({ committedOffset: 2, logStartOffset: 8, recordsLostToRetention: 6, lag: 8 })

    const member: GroupConsumer = group.consumer({ topics: ['events'] })
    const resets: number[] = []
    member.on('offsetReset', (e) => void resets.push(e.recordsSkipped))
    const got = await pollAll([member], 3)
    expect(values(got.get(member)!)).toEqual(['e8', 'e9'])
    expect(resets).toEqual([6])
    await member.commit()
    expect(group.describe().partitions[0]).toMatchObject({ committedOffset: 10, skippedRecords: 6, offsetResets: 1, recordsLostToRetention: 0 })
  })

  it('under autoOffsetReset "none" the member gets ERR_OFFSET_OUT_OF_RANGE naming the partition, the committed offset and the log start', async () => {
    const { group, log } = await laggingGroup()
    await retentionPasses(log)
    const member = group.consumer({ topics: ['events'], autoOffsetReset: 'none' })
    await pollAll([member], 1).catch(() => undefined)
    const error = await expectCode(() => pollNow(member), 'ERR_OFFSET_OUT_OF_RANGE')
    expect(error.context).toMatchObject({ topic: 'events', partition: 0, committedOffset: 2, logStartOffset: 8 })
    expect(group.describe().partitions[0]).toMatchObject({ committedOffset: 2, skippedRecords: 0 })
  })
})

describe('Consumer groups > listGroups, deleteGroup, resetOffsets', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  async function groupAtFive() {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 2 })
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < 10; i++) produce(env.kl, 't', p, [`p${p}r${i}`], T0 + i * 1000)
    }
    const group = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['t'] })
    await pollAll([member], 2)
    await member.commit([
      { topic: 't', partition: 0, offset: 5 },
      { topic: 't', partition: 1, offset: 5 },
    ])
    return { group, member }
  }

  it('listGroups shows groups with members, Empty ones and offset-only ones, with their states', async () => {
    const { member } = await groupAtFive()
    await env.kl.consumerGroup('offsets-only').resetOffsets({ to: 'earliest', topics: ['t'] })
    const idle = env.kl.consumerGroup('idle').consumer({ topics: ['t'] })
    await pollAll([idle], 2)
    await idle.close()
    await settle()
    expect(env.kl.listGroups()).toEqual([
      { groupId: 'g', state: 'Stable', protocolType: 'consumer', members: 1 },
      { groupId: 'idle', state: 'Empty', protocolType: 'consumer', members: 0 },
      { groupId: 'offsets-only', state: 'Empty', protocolType: 'consumer', members: 0 },
    ])
    void member
  })

  it('deleteGroup refuses a group with members (ERR_NON_EMPTY_GROUP) and an unknown one (ERR_GROUP_ID_NOT_FOUND), and deletes an Empty one for good', async () => {
    const { group, member } = await groupAtFive()
    const before = group.describe()
    await expectCode(() => env.kl.deleteGroup('g'), 'ERR_NON_EMPTY_GROUP')
    expect(group.describe()).toEqual(before)
    await expectCode(() => env.kl.deleteGroup('nope'), 'ERR_GROUP_ID_NOT_FOUND')
    await member.close()
    await settle()
    await env.kl.deleteGroup('g')
    expect(env.kl.listGroups()).toEqual([])
    expect(group.state).toBe('Dead')
    await env.reopen()
    expect(env.kl.listGroups()).toEqual([])
    const again = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest' }).consumer({ topics: ['t'] })
    const got = await pollAll([again], 2)
    expect(got.get(again)).toHaveLength(20) // no committed offsets left: from the start
  })

  it('resetOffsets is refused while the group has members (ERR_NON_EMPTY_GROUP), even as a dry run, and changes nothing', async () => {
    const { group } = await groupAtFive()
    const before = group.describe()
    await expectCode(() => group.resetOffsets({ to: 'earliest' }), 'ERR_NON_EMPTY_GROUP')
    await expectCode(() => group.resetOffsets({ to: 'earliest', dryRun: true }), 'ERR_NON_EMPTY_GROUP')
    expect(group.describe()).toEqual(before)
  })

  it('resetOffsets computes each target, clamped to the log, and a dry run returns the plan without committing it', async () => {
    const { group, member } = await groupAtFive()
    await member.close()
    await settle()
    const plan = async (to: Parameters<typeof group.resetOffsets>[0]['to']) => (await group.resetOffsets({ to, dryRun: true })).map((e) => e.newOffset)
    expect(await plan('earliest')).toEqual([0, 0])
    expect(await plan('latest')).toEqual([10, 10])
    expect(await plan({ offset: 3 })).toEqual([3, 3])
    expect(await plan({ offset: 100 })).toEqual([10, 10])
    expect(await plan({ shiftBy: -2 })).toEqual([3, 3])
    expect(await plan({ shiftBy: 99 })).toEqual([10, 10])
    expect(await plan({ timestamp: T0 + 7000 })).toEqual([7, 7])
    expect(await plan({ timestamp: T0 + 99_000 })).toEqual([10, 10])
    expect(group.describe().partitions.map((p) => p.committedOffset)).toEqual([5, 5])

    const applied = await group.resetOffsets({ to: { offset: 8 }, topics: ['t'] })
    expect(applied).toEqual([
      { topic: 't', partition: 0, currentOffset: 5, newOffset: 8 },
      { topic: 't', partition: 1, currentOffset: 5, newOffset: 8 },
    ])
    const next = group.consumer({ topics: ['t'] })
    const got = await pollAll([next], 2)
    expect(values(got.get(next)!).sort()).toEqual(['p0r8', 'p0r9', 'p1r8', 'p1r9'])
  })

  it('resetOffsets refuses bad input with typed errors and changes nothing', async () => {
    const { group, member } = await groupAtFive()
    await member.close()
    await settle()
    const before = group.describe()
    await env.kl.createTopic('fresh')
    await expectCode(() => group.resetOffsets({ to: { shiftBy: 1 }, topics: ['fresh'] }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.resetOffsets({ to: 'earliest', topics: ['missing'] }), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => group.resetOffsets({ to: { offset: -1 } }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.resetOffsets({ to: 'beginning' as never }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.resetOffsets({ to: { offset: 1, shiftBy: 1 } as never }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.resetOffsets({ to: 'earliest', topics: [] }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.resetOffsets({ to: 'earliest', dryRun: 'yes' as never }), 'ERR_INVALID_ARGUMENT')
    expect(group.describe()).toEqual(before)
  })
})

describe('Consumer groups > offsets expiry', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('the offsets of a group Empty for offsetsRetentionMs expire, and the group with them', async () => {
    env = await openEnv({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 })
    await env.kl.createTopic('t')
    produce(env.kl, 't', 0, ['a'])
    const group = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['t'] })
    await pollAll([member], 2)
    await member.commit()
    env.clock.advance(100_000) // a group with members keeps its offsets however old
    expect(group.describe().partitions[0]!.committedOffset).toBe(1)
    await member.close()
    await settle()
    expect(group.state).toBe('Empty')
    env.clock.advance(50_000)
    expect(group.describe().partitions[0]!.committedOffset).toBe(1)
    env.clock.advance(20_000)
    expect(group.describe().partitions).toEqual([])
    expect(env.kl.listGroups()).toEqual([])
    await env.reopen({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 })
    expect(env.kl.listGroups()).toEqual([])
  })

  it('a group with members loses only the offsets of topics none of its members subscribes to', async () => {
    env = await openEnv({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 })
    await env.kl.createTopic('current')
    await env.kl.createTopic('old')
    const group = env.kl.consumerGroup('g')
    await group.resetOffsets({ to: 'earliest', topics: ['current', 'old'] })
    const member = group.consumer({ topics: ['current'] })
    await pollAll([member], 2)
    env.clock.advance(70_000)
    expect(group.describe().partitions.map((p) => [p.topic, p.committedOffset])).toEqual([['current', 0]])
  })
})

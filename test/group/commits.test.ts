/**
 * Commits and delivery guarantees: durability of commit(), commitAsync, metadata, auto-commit, the checks a
 * commit must pass (generation, membership, ownership), and the classic incidents: a crash between
 * processing and committing redelivers (at-least-once); committing before processing loses records on a
 * crash (at-most-once); a new group with "latest" skips history while "earliest" replays it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { expectCode, GatedFileSystem, openEngineEnv, openEnv, owned, pollAll, pollNow, produce, settle, values, type Env } from './helpers'

describe('Consumer groups > commits', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  async function oneMember(partitions = 2, options: Record<string, unknown> = {}) {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions })
    for (let p = 0; p < partitions; p++) produce(env.kl, 't', p, [`a${p}`, `b${p}`, `c${p}`])
    const group = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest', ...options })
    const member = group.consumer({ topics: ['t'] })
    const got = await pollAll([member], 2) // joins, then applies its assignment and reads what there is
    return { group, member, read: values(got.get(member)!) }
  }

  it('commit() with no arguments stores the position of every owned partition, durably: it survives a machine crash', async () => {
    const { member, read } = await oneMember()
    expect(read).toHaveLength(6)
    await member.commit()
    expect(member.committed()).toEqual([
      expect.objectContaining({ topic: 't', partition: 0, offset: 3, metadata: '' }),
      expect.objectContaining({ topic: 't', partition: 1, offset: 3, metadata: '' }),
    ])
    const kl = await env.crash('machine')
    const after = kl.consumerGroup('g').describe()
    expect(after.partitions.map((p) => p.committedOffset)).toEqual([3, 3])
  })

  it('explicit offsets keep their metadata strings, and committed() reads them back', async () => {
    const { member } = await oneMember()
    await member.commit([{ topic: 't', partition: 0, offset: 1, metadata: 'batch-17 checksum=ab12' }])
    expect(member.committed([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])).toEqual([
      { topic: 't', partition: 0, offset: 1, metadata: 'batch-17 checksum=ab12', commitTimestamp: env.clock.now() },
      null,
    ])
    await env.reopen()
    expect(env.kl.consumerGroup('g').describe().partitions[0]).toMatchObject({ committedOffset: 1, committedMetadata: 'batch-17 checksum=ab12' })
  })

  it('commitAsync applies the commit at once and reports durability, or the error, to its callback', async () => {
    const { member } = await oneMember()
    await pollNow(member)
    const outcomes = new Map<string, Error | null>()
    member.commitAsync(undefined, (e) => outcomes.set('positions', e))
    member.commitAsync([{ topic: 't', partition: 7, offset: 1 }], (e) => outcomes.set('not owned', e))
    await settle()
    expect(outcomes.get('positions')).toBeNull()
    expect((outcomes.get('not owned') as Error & { code: string }).code).toBe('ERR_NOT_ASSIGNED')
    expect(member.committed().map((c) => c?.offset)).toEqual([3, 3])
  })

  it('a commit for a partition the member does not own is ERR_NOT_ASSIGNED, and nothing is committed', async () => {
    const { group, member } = await oneMember(2)
    const other = group.consumer({ topics: ['t'] })
    await pollAll([member, other], 4)
    const [theirs] = other.ownedPartitions()
    const error = await expectCode(() => member.commit([{ topic: theirs!.topic, partition: theirs!.partition, offset: 1 }]), 'ERR_NOT_ASSIGNED')
    expect(error.context).toMatchObject({ topic: theirs!.topic, partition: theirs!.partition })
    expect(group.describe().partitions.every((p) => p.committedOffset === null)).toBe(true)
  })

  it('a partition revoked from a member can no longer be committed by it (ERR_NOT_ASSIGNED)', async () => {
    const { group, member } = await oneMember(2)
    const before = owned(member)
    const other = group.consumer({ topics: ['t'] })
    await pollAll([member, other], 4)
    const lostOne = before.find((tp) => !owned(member).includes(tp))!
    const partition = Number(lostOne.split('-')[1])
    await expectCode(() => member.commit([{ topic: 't', partition, offset: 1 }]), 'ERR_NOT_ASSIGNED')
  })

  it('a revoked listener may commit the partitions it is losing (they are still owned while it runs)', async () => {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 2 })
    for (let p = 0; p < 2; p++) produce(env.kl, 't', p, [`a${p}`, `b${p}`])
    const group = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const committedOnRevoke: string[] = []
    const member = group.consumer({
      topics: ['t'],
      listeners: {
        revoked: async (tps) => {
          await member.commit(member.positions().filter((p) => tps.some((t) => t.partition === p.partition)))
          committedOnRevoke.push(...tps.map((t) => `${t.topic}-${t.partition}`))
        },
      },
    })
    await pollAll([member], 2)
    const other = group.consumer({ topics: ['t'] })
    const got = await pollAll([member, other], 4)
    expect(committedOnRevoke).toHaveLength(1)
    // The new owner starts after what the old one committed: nothing is read twice.
    expect(values(got.get(other)!)).toEqual([])
    expect(group.describe().partitions.find((p) => `t-${p.partition}` === committedOnRevoke[0])!.committedOffset).toBe(2)
  })

  it('a commit from a generation the group has left behind is ERR_ILLEGAL_GENERATION, and the stored offsets are unchanged', async () => {
    const { group, member } = await oneMember(2)
    await member.commit()
    const stored = group.describe().partitions.map((p) => p.committedOffset)
    expect(stored).toEqual([3, 3])
    const extra = group.consumer({ topics: ['t'] })
    await pollNow(extra) // starts a rebalance
    await pollNow(member) // member joins again: the new generation completes, but member has not applied it
    await pollNow(extra)
    await settle()
    expect(group.describe().generation).toBeGreaterThan(member.generation)
    const error = await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: 1 }]), 'ERR_ILLEGAL_GENERATION')
    expect(error.context).toMatchObject({ generation: member.generation, currentGeneration: group.describe().generation })
    expect(group.describe().partitions.map((p) => p.committedOffset)).toEqual(stored)
  })

  it('a commit while the group completes a rebalance (the new generation not yet durable) is ERR_REBALANCE_IN_PROGRESS', async () => {
    const fs = new GatedFileSystem()
    const engineEnv = await openEngineEnv({}, fs)
    try {
      await engineEnv.engine.createTopic('t', { partitions: 2 })
      const group = engineEnv.group('g')
      const a = group.consumer({ topics: ['t'] })
      await pollAll([a], 2)
      const b = group.consumer({ topics: ['t'] })
      await pollNow(b)
      fs.hold()
      await pollNow(a) // a joins again: every member has joined; the new generation waits for its fsync
      expect(group.state).toBe('CompletingRebalance')
      await expectCode(() => a.commit([{ topic: 't', partition: 0, offset: 0 }]), 'ERR_REBALANCE_IN_PROGRESS')
      fs.release()
      await pollAll([a, b], 4)
      expect(group.state).toBe('Stable')
      await a.commit()
    } finally {
      fs.release()
      await engineEnv.engine.close()
    }
  })

  it('commit after close is ERR_CLOSED', async () => {
    const { member } = await oneMember()
    await member.close()
    await expectCode(() => member.commit(), 'ERR_CLOSED')
    expect(() => member.commitAsync()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('negative or fractional offsets and oversized metadata are ERR_INVALID_ARGUMENT, and nothing is committed', async () => {
    const { group, member } = await oneMember(1)
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: -1 }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: 1.5 }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: 1, metadata: 'x'.repeat(4097) }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit('nope' as never), 'ERR_INVALID_ARGUMENT')
    expect(group.describe().partitions[0]!.committedOffset).toBeNull()
  })

  it('auto-commit (off by default) commits, at the next poll after autoCommitIntervalMs, the positions of records already returned', async () => {
    const { group, member, read } = await oneMember(1, { enableAutoCommit: true, autoCommitIntervalMs: 5000 })
    expect(read).toEqual(['a0', 'b0', 'c0'])
    await pollNow(member)
    expect(group.describe().partitions[0]!.committedOffset).toBeNull() // not due yet
    env.clock.advance(5000)
    await pollNow(member)
    await settle()
    expect(group.describe().partitions[0]!.committedOffset).toBe(3)
    produce(env.kl, 't', 0, ['d0'])
    await pollNow(member)
    await member.close() // auto-commit on close
    expect(group.describe().partitions[0]!.committedOffset).toBe(4)
  })
})

describe('Consumer groups > delivery guarantees', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('at-least-once: a crash after processing and before the commit redelivers the processed records', async () => {
    env = await openEnv()
    await env.kl.createTopic('payments')
    produce(env.kl, 'payments', 0, ['p1', 'p2', 'p3'])
    const processed: string[] = []
    const first = env.kl.consumerGroup('billing', { autoOffsetReset: 'earliest' }).consumer({ topics: ['payments'] })
    await pollAll([first], 1)
    await first.commit() // nothing consumed yet: nothing to commit
    for (const r of await pollNow(first)) processed.push(r.value!.toString())
    // The process dies here: the records were processed, the commit never happened.
    const kl = await env.crash('process')
    const second = kl.consumerGroup('billing', { autoOffsetReset: 'earliest' }).consumer({ topics: ['payments'] })
    const again = await pollAll([second], 3)
    expect(processed).toEqual(['p1', 'p2', 'p3'])
    expect(values(again.get(second)!)).toEqual(['p1', 'p2', 'p3'])
  })

  it('at-most-once: committing before processing loses the records in hand when the process dies', async () => {
    env = await openEnv()
    await env.kl.createTopic('payments')
    produce(env.kl, 'payments', 0, ['p1', 'p2', 'p3'])
    const first = env.kl.consumerGroup('billing', { autoOffsetReset: 'earliest' }).consumer({ topics: ['payments'] })
    await pollAll([first], 1)
    const inHand = await pollNow(first)
    expect(values(inHand)).toEqual(['p1', 'p2', 'p3'])
    await first.commit() // committed before processing
    expect(values(inHand)).toEqual(['p1', 'p2', 'p3'])
    const kl = await env.crash('process')
    const second = kl.consumerGroup('billing').consumer({ topics: ['payments'] })
    const again = await pollAll([second], 3)
    expect(values(again.get(second)!)).toEqual([])
  })

  it('a new group with autoOffsetReset "latest" skips the history, and with "earliest" replays it', async () => {
    env = await openEnv()
    await env.kl.createTopic('events', { partitions: 2 })
    produce(env.kl, 'events', 0, ['old-0'])
    produce(env.kl, 'events', 1, ['old-1'])
    const latest = env.kl.consumerGroup('new-latest', { autoOffsetReset: 'latest' }).consumer({ topics: ['events'] })
    const earliest = env.kl.consumerGroup('new-earliest', { autoOffsetReset: 'earliest' }).consumer({ topics: ['events'] })
    const before = await pollAll([latest, earliest], 2)
    produce(env.kl, 'events', 0, ['new-0'])
    const after = await pollAll([latest, earliest], 2)
    const all = (m: typeof latest) => [...values(before.get(m)!), ...values(after.get(m)!)]
    expect(all(latest)).toEqual(['new-0'])
    expect(all(earliest).sort()).toEqual(['new-0', 'old-0', 'old-1'])
  })
})

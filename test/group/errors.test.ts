/**
 * Bad input at the group layer's boundary: typed errors, and nothing changed (the group's description and
 * the data directory's files are the same before and after).
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { MemoryFileSystem } from '../../src/io/memory-fs'
import { DIR, expectCode, openEnv, pollAll, produce, settle, type Env } from './helpers'

function tree(fs: MemoryFileSystem, dir = DIR): string[] {
  const out: string[] = []
  for (const name of fs.readdir(dir)) {
    const path = `${dir}/${name}`
    if (fs.stat(path).isDirectory) out.push(...tree(fs, path))
    else if (name !== '.lock') out.push(`${path} ${createHash('sha256').update(fs.readFile(path)).digest('hex').slice(0, 12)}`)
  }
  return out.sort()
}

describe('Consumer groups > bad input', () => {
  let env: Env
  afterEach(async () => env?.kl.close().catch(() => undefined))

  async function withLiveGroup() {
    env = await openEnv({ autoCreateTopicsEnable: false })
    await env.kl.createTopic('t', { partitions: 2 })
    produce(env.kl, 't', 0, ['a'])
    const group = env.kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    const member = group.consumer({ topics: ['t'] })
    await pollAll([member], 2)
    await member.commit()
    await settle()
    return { group, member, before: group.describe(), files: tree(env.fs) }
  }

  it('group ids and group options are checked', async () => {
    const { group, before, files } = await withLiveGroup()
    await expectCode(() => env.kl.consumerGroup(''), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => env.kl.consumerGroup(42 as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => env.kl.consumerGroup('g', { groupId: 'other' } as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => env.kl.consumerGroup('g', { maxPollRecords: 0 }), 'ERR_INVALID_CONFIG')
    await expectCode(() => env.kl.consumerGroup('g', { autoOffsetRest: 'earliest' } as never), 'ERR_INVALID_CONFIG')
    expect(group.describe()).toEqual(before)
    expect(tree(env.fs)).toEqual(files)
  })

  it('subscriptions are checked: unknown or malformed topics, neither or both of topics and pattern, bad options', async () => {
    const { group, before, files } = await withLiveGroup()
    await expectCode(() => group.consumer({ topics: ['missing'] }), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => group.consumer({ topics: ['bad name'] }), 'ERR_INVALID_TOPIC')
    await expectCode(() => group.consumer({ topics: [] }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.consumer({} as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.consumer({ topics: ['t'], pattern: /t/ }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.consumer({ pattern: 't' as never }), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.consumer({ topics: ['t'], groupId: 'x' } as never), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => group.consumer({ topics: ['t'], sessionTimeoutMs: 500, heartbeatIntervalMs: 100 }), 'ERR_INVALID_CONFIG')
    await expectCode(() => group.consumer({ topics: ['t'], listeners: 'nope' as never }), 'ERR_INVALID_ARGUMENT')
    expect(group.describe()).toEqual(before)
    expect(tree(env.fs)).toEqual(files)
  })

  it("a member's partitions come from its group: assign() is ERR_INVALID_STATE", async () => {
    const { member, before, group } = await withLiveGroup()
    await expectCode(() => member.assign([{ topic: 't', partition: 0 }]), 'ERR_INVALID_STATE')
    expect(group.describe()).toEqual(before)
  })

  it('commits of unknown or unowned partitions and malformed offsets are refused, and nothing is written', async () => {
    const { member, before, group, files } = await withLiveGroup()
    await expectCode(() => member.commit([{ topic: 'missing', partition: 0, offset: 1 }]), 'ERR_NOT_ASSIGNED')
    await expectCode(() => member.commit([{ topic: 't', partition: -1, offset: 1 }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: -5 }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: Number.NaN }]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => member.commit([{ topic: 't', partition: 0, offset: 1, metadata: 5 as never }]), 'ERR_INVALID_ARGUMENT')
    expect(group.describe()).toEqual(before)
    expect(tree(env.fs)).toEqual(files)
  })

  it('reset and delete on a live group are ERR_NON_EMPTY_GROUP; deleting an unknown group is ERR_GROUP_ID_NOT_FOUND', async () => {
    const { group, before, files } = await withLiveGroup()
    await expectCode(() => group.resetOffsets({ to: 'latest' }), 'ERR_NON_EMPTY_GROUP')
    await expectCode(() => env.kl.deleteGroup('g'), 'ERR_NON_EMPTY_GROUP')
    await expectCode(() => env.kl.deleteGroup('unknown'), 'ERR_GROUP_ID_NOT_FOUND')
    await expectCode(() => env.kl.deleteGroup(''), 'ERR_INVALID_ARGUMENT')
    expect(group.describe()).toEqual(before)
    expect(tree(env.fs)).toEqual(files)
  })

  it('after kl.close() every group operation is ERR_CLOSED, and members closed with it', async () => {
    const { group, member } = await withLiveGroup()
    await env.kl.close()
    expect(member.state).toBe('closed')
    await expectCode(() => member.poll({ timeoutMs: 0 }), 'ERR_CLOSED')
    await expectCode(() => member.commit(), 'ERR_CLOSED')
    await expectCode(() => group.describe(), 'ERR_CLOSED')
    await expectCode(() => group.state, 'ERR_CLOSED')
    await expectCode(() => group.consumer({ topics: ['t'] }), 'ERR_CLOSED')
    await expectCode(() => group.resetOffsets({ to: 'earliest' }), 'ERR_CLOSED')
    await expectCode(() => env.kl.consumerGroup('g'), 'ERR_CLOSED')
    await expectCode(() => env.kl.listGroups(), 'ERR_CLOSED')
    await expectCode(() => env.kl.deleteGroup('g'), 'ERR_CLOSED')
  })

  it('a session timeout outside the engine bounds is refused when the member is created', async () => {
    env = await openEnv({ groupMinSessionTimeoutMs: 6000, groupMaxSessionTimeoutMs: 60_000 })
    await env.kl.createTopic('t')
    const group = env.kl.consumerGroup('g')
    const error = await expectCode(() => group.consumer({ topics: ['t'], sessionTimeoutMs: 120_000 }), 'ERR_INVALID_CONFIG')
    expect(error.context).toMatchObject({ key: 'sessionTimeoutMs', value: 120_000 })
  })

  it('a member beyond groupMaxSize is refused (ERR_GROUP_MAX_SIZE_REACHED) and the group keeps its members', async () => {
    env = await openEnv({ groupMaxSize: 2 })
    await env.kl.createTopic('t', { partitions: 3 })
    const group = env.kl.consumerGroup('g')
    const members = [group.consumer({ topics: ['t'] }), group.consumer({ topics: ['t'] })]
    await pollAll(members, 4)
    const before = group.describe()
    const third = group.consumer({ topics: ['t'] })
    await expectCode(() => third.poll({ timeoutMs: 0 }), 'ERR_GROUP_MAX_SIZE_REACHED')
    expect(group.describe()).toEqual(before)
  })
})

/**
 * `__consumer_offsets` on disk: group and offset state is what replaying its records gives, both live and
 * after a reopen; static assignments survive a restart of the host process; and the records are Kafka's.
 * The bytes are read back from the segment file with an independent implementation: kafkajs 2.2.4's record
 * batch decoder (kafka-format.md §5.1, with kafkajs's CRC-32C, since its decoder does not check CRCs), its
 * primitive Decoder for the GroupMetadataValue schema, and its consumer protocol decoders for the member
 * subscription and assignment; the offset commit key and value are compared with §3's example bytes.
 */
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { groupPartition } from '../../src/codec/murmur2'
import { Decoder, decodeLogFile, type KafkajsRecord } from '../helpers/kafkajs'
import { DIR, openEnv, owned, pollAll, produce, settle, T0, type Env } from './helpers'

const require = createRequire(import.meta.url)
const assignerProtocol = require('kafkajs/src/consumer/assignerProtocol.js') as {
  MemberMetadata: { decode(b: Buffer): { version: number; topics: string[] } }
  MemberAssignment: { decode(b: Buffer): { version: number; assignment: Record<string, number[]> } | null }
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

/** Every record of one offsets-topic partition, decoded by kafkajs, each batch's CRC checked. */
async function kafkajsRecords(env: Env, partition: number): Promise<KafkajsRecord[]> {
  const dir = `${DIR}/__consumer_offsets-${partition}`
  const out: KafkajsRecord[] = []
  for (const name of env.fs.readdir(dir).filter((n) => n.endsWith('.log')).sort()) {
    const { batches, crcOk } = await decodeLogFile(env.fs.readFile(`${dir}/${name}`))
    expect(crcOk.every(Boolean), `CRCs of the batches in ${name}`).toBe(true)
    for (const batch of batches) out.push(...batch.records)
  }
  return out
}

/** GroupMetadataValue v3, field by field with kafkajs's primitive decoder (Kafka's GroupMetadataValue.json). */
function decodeGroupMetadataV3(value: Buffer) {
  const d = new Decoder(value)
  const version = d.readInt16()
  const protocolType = d.readString()
  const generation = d.readInt32()
  const protocol = d.readString()
  const leader = d.readString()
  const currentStateTimestamp = Number(d.readInt64().toString())
  const members = d.readArray((m) => ({
    memberId: m.readString(),
    groupInstanceId: m.readString(),
    clientId: m.readString(),
    clientHost: m.readString(),
    rebalanceTimeout: m.readInt32(),
    sessionTimeout: m.readInt32(),
    subscription: m.readBytes(),
    assignment: m.readBytes(),
  }))
  expect(d.canReadBytes(1)).toBe(false)
  return { version, protocolType, generation, protocol, leader, currentStateTimestamp, members }
}

describe('Consumer groups > __consumer_offsets records', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it("is created on first use, compacted, with the engine's partition count, and holds a group in partition abs(hashCode) % n", async () => {
    env = await openEnv()
    expect(env.kl.listTopics({ listInternal: true })).not.toContain('__consumer_offsets')
    await env.kl.createTopic('orders', { partitions: 4 })
    const member = env.kl.consumerGroup('my-group').consumer({ topics: ['orders'] })
    await pollAll([member], 2)
    const description = env.kl.describeTopic('__consumer_offsets')
    expect(description.partitions).toHaveLength(50)
    expect(description.config.cleanupPolicy).toBe('compact')
    expect(groupPartition('my-group', 50)).toBe(12)
    expect(description.partitions.filter((p) => p.logEndOffset > 0).map((p) => p.partition)).toEqual([12])
    expect(env.kl.listTopics()).not.toContain('__consumer_offsets')
  })

  it("commits and group metadata decode with kafkajs's decoder and match Kafka's schemas byte for byte", async () => {
    env = await openEnv()
    await env.kl.createTopic('orders', { partitions: 4 })
    const member = env.kl.consumerGroup('my-group').consumer({ topics: ['orders'], clientId: 'billing', groupInstanceId: 'billing-1', sessionTimeoutMs: 30_000, maxPollIntervalMs: 60_000 })
    await pollAll([member], 2)
    expect(env.clock.now()).toBe(T0)
    await member.commit([{ topic: 'orders', partition: 3, offset: 42 }])
    await member.close()
    await settle()

    const records = await kafkajsRecords(env, 12)
    // kafka-format.md §3's examples: the key of ('my-group', 'orders', 3) and the v3 value of offset 42, no
    // leader epoch, empty metadata, committed at 1700000000000.
    const commit = records.find((r) => r.key!.equals(hex('0001 0008 6d792d67726f7570 0006 6f7264657273 00000003')))
    expect(commit).toBeDefined()
    expect(commit!.value).toEqual(hex('0003 000000000000002a ffffffff 0000 0000018bcfe56800'))

    const groupRecords = records.filter((r) => r.key!.equals(hex('0002 0008 6d792d67726f7570')))
    expect(groupRecords.length).toBeGreaterThanOrEqual(1)
    const metadata = decodeGroupMetadataV3(groupRecords[0]!.value!)
    expect(metadata).toMatchObject({ version: 3, protocolType: 'consumer', generation: 1, protocol: 'cooperative-sticky', currentStateTimestamp: T0 })
    expect(metadata.members).toHaveLength(1)
    const m = metadata.members[0]!
    expect(m).toMatchObject({ groupInstanceId: 'billing-1', clientId: 'billing', rebalanceTimeout: 60_000, sessionTimeout: 30_000 })
    expect(m.memberId).toMatch(/^billing-1-[0-9a-f-]{36}$/)
    expect(metadata.leader).toBe(m.memberId)
    // The member's subscription and assignment are Kafka's consumer protocol (v3), which kafkajs reads.
    expect(assignerProtocol.MemberMetadata.decode(m.subscription)).toMatchObject({ version: 3, topics: ['orders'] })
    expect(assignerProtocol.MemberAssignment.decode(m.assignment)).toMatchObject({ version: 3, assignment: { orders: [0, 1, 2, 3] } })
  })

  it('deleting a group writes tombstones (null values) for its offsets and its metadata', async () => {
    env = await openEnv()
    await env.kl.createTopic('orders', { partitions: 2 })
    const group = env.kl.consumerGroup('my-group')
    const member = group.consumer({ topics: ['orders'] })
    await pollAll([member], 2)
    await member.commit([
      { topic: 'orders', partition: 0, offset: 0 },
      { topic: 'orders', partition: 1, offset: 0 },
    ])
    await member.close()
    await settle()
    await env.kl.deleteGroup('my-group')
    const records = await kafkajsRecords(env, 12)
    const tombstones = records.filter((r) => r.value === null).map((r) => r.key!.toString('hex'))
    expect(tombstones).toEqual([
      hex('0001 0008 6d792d67726f7570 0006 6f7264657273 00000000').toString('hex'),
      hex('0001 0008 6d792d67726f7570 0006 6f7264657273 00000001').toString('hex'),
      hex('0002 0008 6d792d67726f7570').toString('hex'),
    ])
  })
})

describe('Consumer groups > state survives a reopen (replayed from __consumer_offsets)', () => {
  let env: Env
  afterEach(async () => env?.kl.close())

  it('committed offsets and their metadata survive closing and reopening the data directory', async () => {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 3 })
    const member = env.kl.consumerGroup('g').consumer({ topics: ['t'] })
    await pollAll([member], 2)
    for (let p = 0; p < 3; p++) produce(env.kl, 't', p, ['a', 'b', 'c'])
    await member.commit([
      { topic: 't', partition: 0, offset: 1, metadata: 'first' },
      { topic: 't', partition: 1, offset: 2 },
    ])
    await member.commit([{ topic: 't', partition: 0, offset: 3, metadata: 'second' }])
    const before = env.kl.consumerGroup('g').describe().partitions
    await env.reopen()
    const after = env.kl.consumerGroup('g').describe().partitions
    expect(after.map((p) => [p.committedOffset, p.committedMetadata])).toEqual([
      [3, 'second'],
      [2, ''],
      [null, null],
    ])
    expect(after.map((p) => p.committedOffset)).toEqual(before.map((p) => p.committedOffset))
  })

  /** Two static members, node-1 and node-2, that have joined a group over a topic of four partitions. */
  async function twoStaticMembers() {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 4 })
    const group = env.kl.consumerGroup('g', { sessionTimeoutMs: 20_000 })
    const s1 = group.consumer({ topics: ['t'], groupInstanceId: 'node-1' })
    const s2 = group.consumer({ topics: ['t'], groupInstanceId: 'node-2' })
    await pollAll([s1, s2], 5)
    return { group, s1, s2 }
  }

  it('static members restarted with the host process get their partitions back without a rebalance', async () => {
    const { group, s1, s2 } = await twoStaticMembers()
    const assignment = { 'node-1': owned(s1), 'node-2': owned(s2) }
    const generation = group.describe().generation
    expect(assignment['node-1']).toHaveLength(2)

    const kl = await env.reopen()
    const reloaded = kl.consumerGroup('g')
    expect(reloaded.describe()).toMatchObject({ state: 'Stable', generation })
    expect(reloaded.describe().members.map((m) => [m.groupInstanceId, m.status])).toEqual([
      ['node-1', 'detached'],
      ['node-2', 'detached'],
    ])
    env.clock.advance(15_000)
    const revoked: string[] = []
    const back1 = reloaded.consumer({ topics: ['t'], groupInstanceId: 'node-1', listeners: { revoked: () => void revoked.push('1') } })
    const back2 = reloaded.consumer({ topics: ['t'], groupInstanceId: 'node-2', listeners: { revoked: () => void revoked.push('2') } })
    await pollAll([back1, back2], 3)
    expect({ 'node-1': owned(back1), 'node-2': owned(back2) }).toEqual(assignment)
    expect(reloaded.describe().generation).toBe(generation)
    expect(revoked).toEqual([])
  })

  it('after a process crash too; a static member that does not come back within sessionTimeoutMs loses its partitions to the others', async () => {
    const { s1 } = await twoStaticMembers()
    const mine = owned(s1)
    const kl = await env.crash('process')
    const back1 = kl.consumerGroup('g', { sessionTimeoutMs: 20_000 }).consumer({ topics: ['t'], groupInstanceId: 'node-1' })
    await pollAll([back1], 3)
    expect(owned(back1)).toEqual(mine)
    env.clock.advance(20_000) // node-2 never came back
    await pollAll([back1], 4)
    expect(owned(back1)).toEqual(['t-0', 't-1', 't-2', 't-3'])
    expect(kl.consumerGroup('g').describe().members.map((m) => m.groupInstanceId)).toEqual(['node-1'])
  })

  it('dynamic members do not outlive their process: after a crash their group is Empty, with its offsets', async () => {
    env = await openEnv()
    await env.kl.createTopic('t', { partitions: 2 })
    const member = env.kl.consumerGroup('g').consumer({ topics: ['t'] })
    await pollAll([member], 2)
    produce(env.kl, 't', 0, ['x'])
    await member.commit([{ topic: 't', partition: 0, offset: 1 }])
    const generation = env.kl.consumerGroup('g').describe().generation
    const kl = await env.crash('process')
    await settle()
    const d = kl.consumerGroup('g').describe()
    expect(d).toMatchObject({ state: 'Empty', members: [], generation: generation + 1 })
    expect(d.partitions[0]!.committedOffset).toBe(1)
  })

  it('what a reopen replays equals what the live process held', async () => {
    env = await openEnv()
    await env.kl.createTopic('a', { partitions: 3 })
    await env.kl.createTopic('b', { partitions: 2 })
    const g1 = env.kl.consumerGroup('g1', { autoOffsetReset: 'earliest' })
    const members = [g1.consumer({ topics: ['a', 'b'], groupInstanceId: 'x' }), g1.consumer({ topics: ['a'], groupInstanceId: 'y' })]
    for (let p = 0; p < 3; p++) produce(env.kl, 'a', p, ['1', '2', '3', '4'])
    for (let p = 0; p < 2; p++) produce(env.kl, 'b', p, ['1', '2'])
    await pollAll(members, 5)
    for (const m of members) await m.commit()
    const g2 = env.kl.consumerGroup('g2')
    const solo = g2.consumer({ topics: ['b'] })
    await pollAll([solo], 2)
    await solo.commit([{ topic: 'b', partition: 1, offset: 1, metadata: 'm' }])
    await solo.close()
    await settle()
    const live = [g1.describe(), g2.describe()]
    const listed = env.kl.listGroups()
    await env.reopen()
    const replayed = [env.kl.consumerGroup('g1').describe(), env.kl.consumerGroup('g2').describe()]
    const comparable = (d: (typeof live)[number]) => ({
      ...d,
      members: d.members.map((m) => ({ ...m, status: 'any', memberId: m.groupInstanceId ?? m.memberId })),
      leader: null,
    })
    expect(replayed.map(comparable)).toEqual(live.map(comparable))
    expect(env.kl.listGroups().map((g) => [g.groupId, g.state])).toEqual(listed.map((g) => [g.groupId, g.state]))
  })
})

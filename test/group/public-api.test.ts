/** Consumer groups through the package entry (src/index.ts): the names and types users import. */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  ConsumerGroup,
  GroupConsumer,
  Kafkalite,
  ManualClock,
  type GroupDescription,
  type GroupListing,
  type GroupState,
  type PartitionLag,
  type ResetPlanEntry,
} from '../../src/index'

describe('Consumer groups > public API', () => {
  let kl: Kafkalite | undefined
  afterEach(async () => kl?.close())

  it('kl.consumerGroup returns a ConsumerGroup whose members are GroupConsumers, in memory too', async () => {
    kl = await Kafkalite.open({ inMemory: true, clock: new ManualClock(), groupInitialRebalanceDelayMs: 0 })
    await kl.createTopic('t')
    const group = kl.consumerGroup('g', { autoOffsetReset: 'earliest' })
    expect(group).toBeInstanceOf(ConsumerGroup)
    const member = group.consumer({ topics: ['t'] })
    expect(member).toBeInstanceOf(GroupConsumer)
    await member.poll({ timeoutMs: 0 })
    await new Promise((r) => setImmediate(r))
    await member.poll({ timeoutMs: 0 })
    expect(member.ownedPartitions()).toEqual([{ topic: 't', partition: 0 }])
    expect(kl.listGroups().map((g) => g.groupId)).toEqual(['g'])
  })

  it('types', () => {
    expectTypeOf<ReturnType<Kafkalite['consumerGroup']>>().toEqualTypeOf<ConsumerGroup>()
    expectTypeOf<ReturnType<ConsumerGroup['consumer']>>().toEqualTypeOf<GroupConsumer>()
    expectTypeOf<ReturnType<ConsumerGroup['describe']>>().toEqualTypeOf<GroupDescription>()
    expectTypeOf<ReturnType<ConsumerGroup['resetOffsets']>>().resolves.toEqualTypeOf<ResetPlanEntry[]>()
    expectTypeOf<ReturnType<Kafkalite['listGroups']>>().toEqualTypeOf<GroupListing[]>()
    expectTypeOf<GroupDescription['state']>().toEqualTypeOf<GroupState>()
    expectTypeOf<GroupDescription['partitions'][number]>().toEqualTypeOf<PartitionLag>()
    expectTypeOf<GroupConsumer['commit']>().returns.resolves.toBeVoid()
    // A member's groupId is its group's.
    // @ts-expect-error groupId is not a member option
    expectTypeOf<Parameters<ConsumerGroup['consumer']>[0]>().toMatchTypeOf<{ groupId: string }>()
  })
})

/**
 * The producer through the public root object, on the in-memory and the real file system: records
 * survive a restart where the default partitioner puts them; producer state is snapshotted in Kafka's
 * `.snapshot` format at close and deduplicates after a restart (also rebuilt from the log without the
 * snapshot); producer ids persist; closing the directory flushes open producers; topics are
 * auto-created as in Kafka; bad input leaves the data directory unchanged.
 */
import { describe, expect, it } from 'vitest'
import { partitionForKey } from '../../src/codec/murmur2'
import { decodeProducerSnapshot } from '../../src/codec/producer-snapshot'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { LOCK_FILE_NAME } from '../../src/io/lock'
import { MemoryFileSystem } from '../../src/index'
import { Kafkalite } from '../../src/index'
import { DIRS, expectCode, manualClock, snapshotTree, T0 } from '../engine/helpers'

function text(b: Buffer | null): string | null {
  return b === null ? null : b.toString()
}

describe.each(DIRS)('Producer through Kafkalite ($name fs)', ({ make }) => {
  it('keyed records land on partitionForKey(key) and survive a restart', async () => {
    const env = make()
    try {
      const kl = await Kafkalite.open({ dir: env.dir, fs: env.fs, clock: manualClock() })
      await kl.createTopic('orders', { partitions: 4 })
      const producer = kl.producer({ lingerMs: 0 })
      const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`)
      const results = await producer.send('orders', keys.map((key) => ({ key, value: `order of ${key}` })))
      expect(results.map((r) => r.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 4)))
      await kl.close()
      expect(producer.closed).toBe(true)

      const again = await Kafkalite.open({ dir: env.dir, fs: env.fs, clock: manualClock() })
      for (const [i, key] of keys.entries()) {
        const { partition, offset } = results[i]!
        const records = again.topic('orders').partition(partition).readRecords(offset, { maxBytes: 1 }).records
        expect([text(records[0]!.key), text(records[0]!.value)]).toEqual([key, `order of ${key}`])
      }
      await again.close()
    } finally {
      env.cleanup()
    }
  })

  it('close snapshots producer state as <log end offset>.snapshot; a retry after the restart is deduplicated, also without the snapshot', async () => {
    const env = make()
    try {
      const kl = await Kafkalite.open({ dir: env.dir, fs: env.fs, clock: manualClock() })
      await kl.createTopic('t')
      const producer = kl.producer({ lingerMs: 0 })
      await producer.send('t', [{ value: 'a' }, { value: 'b' }])
      await producer.send('t', { value: 'c' })
      const { producerId, producerEpoch } = producer.producerIdAndEpoch!
      await kl.close()
      const snapshot = `${env.dir}/t-0/00000000000000000003.snapshot`
      expect(env.fs.readdir(`${env.dir}/t-0`).filter((n) => n.endsWith('.snapshot'))).toEqual(['00000000000000000003.snapshot'])
      expect(decodeProducerSnapshot(env.fs.readFile(snapshot))).toEqual([
        { producerId, producerEpoch, lastSequence: 2, lastOffset: 2, offsetDelta: 0, timestamp: T0, coordinatorEpoch: -1, currentTxnFirstOffset: -1 },
      ])

      // The producer's last batch, appended again (a retry that outlived the process), is recognised.
      const retry = () => encodeRecordBatch({ producerId, producerEpoch, baseSequence: 2, records: [{ key: null, value: Buffer.from('c'), timestamp: T0 }] })
      for (const [round, withSnapshot] of [true, false].entries()) {
        if (!withSnapshot) {
          for (const n of env.fs.readdir(`${env.dir}/t-0`)) if (n.endsWith('.snapshot')) env.fs.unlink(`${env.dir}/t-0/${n}`)
        }
        const again = await Kafkalite.open({ dir: env.dir, fs: env.fs, clock: manualClock() })
        expect(again.topic('t').partition(0).append(retry())).toMatchObject({ baseOffset: 2, lastOffset: 2, duplicate: true })
        expect(again.describeTopic('t').partitions[0]!.logEndOffset).toBe(3 + 2 * round)
        // Producer ids persist: a new producer never reuses one.
        const next = again.producer({ lingerMs: 0 })
        await next.send('t', { value: 'd', partition: 0 }).then(() => next.send('t', { value: 'e', partition: 0 }))
        expect(next.producerIdAndEpoch!.producerId).toBeGreaterThan(producerId)
        await again.close()
      }
    } finally {
      env.cleanup()
    }
  })
})

describe('Producer through Kafkalite', () => {
  it('closing the data directory flushes lingering records; the producer is closed afterwards', async () => {
    const fs = new MemoryFileSystem()
    const clock = manualClock()
    const kl = await Kafkalite.open({ dir: '/d', fs, clock })
    await kl.createTopic('t')
    const producer = kl.producer({ lingerMs: 60_000 })
    const sent = producer.send('t', { value: 'lingering' })
    await kl.close()
    expect((await sent).offset).toBe(0)
    await expectCode(() => producer.send('t', { value: 'late' }), 'ERR_CLOSED')
    expect(() => kl.producer()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    const again = await Kafkalite.open({ dir: '/d', fs, clock })
    expect(again.describeTopic('t').partitions[0]!.logEndOffset).toBe(1)
    await again.close()
  })

  it('an acks "all" record survives a machine crash right after the send resolves', async () => {
    const fs = new MemoryFileSystem()
    const kl = await Kafkalite.open({ dir: '/d', fs, clock: manualClock() })
    await kl.createTopic('t', { durability: 'none' })
    await kl.producer({ lingerMs: 0 }).send('t', { key: 'k', value: 'durable' })
    const survivor = fs.crash()
    survivor.unlink(`/d/${LOCK_FILE_NAME}`) // the dead process's lock names our own pid
    const again = await Kafkalite.open({ dir: '/d', fs: survivor, clock: manualClock() })
    expect(again.topic('t').partition(0).readRecords(0).records.map((r) => text(r.value))).toEqual(['durable'])
    await again.close()
  })

  it('sending to a missing topic creates it when autoCreateTopicsEnable (the default), and is an error otherwise', async () => {
    const kl = await Kafkalite.open({ inMemory: true, clock: manualClock(), numPartitions: 3 })
    const producer = kl.producer({ lingerMs: 0 })
    expect((await producer.send('fresh', { value: 'v', partition: 2 })).partition).toBe(2)
    expect(kl.describeTopic('fresh').partitions).toHaveLength(3)
    // The records are copied at send, also when the call waits for its topic to be created.
    const value = Buffer.from('before')
    const created = producer.send('created', { value, partition: 0 })
    value.write('after!')
    await created
    expect(kl.topic('created').partition(0).readRecords(0).records.map((r) => text(r.value))).toEqual(['before'])
    await expectCode(() => producer.send('bad/name', { value: 'v' }), 'ERR_INVALID_TOPIC')
    // A bad record is found before any topic is created.
    await expectCode(() => producer.send('other', { value: 5 } as never), 'ERR_INVALID_ARGUMENT')
    expect(kl.listTopics().sort()).toEqual(['created', 'fresh'])
    await kl.close()

    const strict = await Kafkalite.open({ inMemory: true, clock: manualClock(), autoCreateTopicsEnable: false })
    await expectCode(() => strict.producer().send('missing', { value: 'v' }), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    expect(strict.listTopics()).toEqual([])
    await strict.close()
  })

  it('bad input is a typed error and leaves the data directory unchanged', async () => {
    const fs = new MemoryFileSystem()
    const kl = await Kafkalite.open({ dir: '/d', fs, clock: manualClock(), autoCreateTopicsEnable: false })
    await kl.createTopic('t', { partitions: 2, maxMessageBytes: 1000 })
    const producer = kl.producer({ lingerMs: 0 })
    await producer.send('t', { value: 'existing', partition: 0 })
    const before = snapshotTree(fs, '/d')
    const valid = { value: 'valid', partition: 1 }
    await expectCode(() => producer.send('t', [valid, { value: 'x', partition: 9 }]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => producer.send('t', [valid, { value: 'x'.repeat(2000) }]), 'ERR_RECORD_TOO_LARGE')
    await expectCode(() => producer.send('t', [valid, { value: undefined } as never]), 'ERR_INVALID_ARGUMENT')
    await expectCode(() => producer.send('nope', [valid]), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => producer.sendBatch([{ topic: 't', messages: [valid] }, { topic: 't', messages: [{ value: 'x', timestamp: -5 }] }]), 'ERR_INVALID_ARGUMENT')
    expect(() => kl.producer({ acks: 2 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG' }))
    await producer.flush()
    expect(snapshotTree(fs, '/d')).toEqual(before)
    await kl.close()
  })
})

/**
 * The cleaner as a user meets it: through Kafkalite (engine wiring). `runCleaners()` runs a pass now,
 * the background pass runs on the injected clock, `deleteRecords` is Kafka's admin call, and
 * `describeTopic` shows each partition's cleaner state, dirty ratio, last clean time and bytes reclaimed.
 */
import { describe, expect, it } from 'vitest'
import { Kafkalite } from '../../src/api/kafkalite'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { keyedBatch } from './helpers'

async function open(clock: ManualClock, fs = new MemoryFileSystem({ clock }), options: object = {}) {
  fs.mkdirp('/data')
  return { kl: await Kafkalite.open({ dir: '/data', fs, clock, ...options }), fs }
}

function values(kl: Kafkalite, topic: string): string[] {
  const out: string[] = []
  const partition = kl.topic(topic).partition(0)
  // nextOffset steps over batches compaction left empty.
  for (let offset = partition.logStartOffset; offset < partition.highWatermark; ) {
    const { records, nextOffset } = partition.readRecords(offset)
    for (const r of records) out.push(`${r.key}=${r.value}@${r.offset}`)
    offset = nextOffset
  }
  return out
}

describe('Kafkalite > cleaners', () => {
  it('compacts with runCleaners() and describes the partition', async () => {
    const clock = new ManualClock()
    const { kl, fs } = await open(clock)
    await kl.createTopic('users', { cleanupPolicy: 'compact', segmentBytes: 100, durability: 'none' })
    const partition = kl.topic('users').partition(0)
    for (const [k, v] of [['user1', 'v1'], ['user2', 'v1'], ['user1', 'v2'], ['user3', 'v1'], ['user2', 'v2'], ['x', 'y']]) {
      partition.append(keyedBatch([{ key: k!, value: v! }], clock))
    }
    expect(kl.describeTopic('users').partitions[0]).toMatchObject({ cleanerState: 'idle', dirtyRatio: 1, lastCleanTimeMs: null, bytesReclaimed: 0 })

    const report = await kl.runCleaners()

    expect(report.compactions).toHaveLength(1)
    expect(values(kl, 'users')).toEqual(['user1=v2@2', 'user3=v1@3', 'user2=v2@4', 'x=y@5'])
    const described = kl.describeTopic('users').partitions[0]!
    expect(described).toMatchObject({ cleanerState: 'idle', dirtyRatio: 0, lastCleanTimeMs: clock.now() })
    expect(described.bytesReclaimed).toBeGreaterThan(0)
    await kl.close()
    expect(fs.readFile('/data/cleaner-offset-checkpoint').toString()).toBe('0\n1\nusers 0 5\n')
  })

  it('runs retention in the background on the clock, and stops its timer at close', async () => {
    const clock = new ManualClock()
    const { kl } = await open(clock, undefined, { logRetentionCheckIntervalMs: 1000, logCleanerBackoffMs: 1000 })
    await kl.createTopic('events', { retentionMs: 60_000, segmentBytes: 100, durability: 'none', fileDeleteDelayMs: 0 })
    const partition = kl.topic('events').partition(0)
    for (let i = 0; i < 3; i++) partition.append(keyedBatch([{ key: `k${i}`, value: 'v' }], clock))
    clock.advance(60_000) // the passes so far found nothing old enough
    expect(partition.logStartOffset).toBe(0)
    // The next timer pass deletes the two closed segments (the engine's pass is asynchronous: let it run).
    clock.advance(1000)
    for (let i = 0; i < 10 && partition.logStartOffset === 0; i++) await new Promise((r) => setImmediate(r))
    expect(partition.logStartOffset).toBe(2)
    await kl.close()
    expect(clock.pendingTimers()).toBe(0)
  })

  it('deleteRecords moves the low watermark and refuses offsets past the high watermark', async () => {
    const clock = new ManualClock()
    const { kl, fs } = await open(clock)
    await kl.createTopic('log', { segmentBytes: 100, durability: 'none' })
    const partition = kl.topic('log').partition(0)
    for (let i = 0; i < 4; i++) partition.append(keyedBatch([{ key: `k${i}`, value: `${i}` }], clock))
    expect(await kl.deleteRecords('log', 0, 2)).toEqual({ lowWatermark: 2 })
    expect(values(kl, 'log')).toEqual(['k2=2@2', 'k3=3@3'])
    await expect(kl.deleteRecords('log', 0, 5)).rejects.toMatchObject({ code: 'ERR_OFFSET_OUT_OF_RANGE' })
    await expect(kl.deleteRecords('nope', 0, 1)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TOPIC_OR_PARTITION' })
    await kl.close()
    // The low watermark survives a reopen (it was checkpointed).
    const again = await open(clock, fs)
    expect(again.kl.topic('log').partition(0).logStartOffset).toBe(2)
    await again.kl.close()
  })
})

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Engine, IN_MEMORY_ROOT, type EngineOptions } from '../../src/engine/engine'
import { CountingFileSystem } from '../../src/io/counting-fs'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { NodeFileSystem } from '../../src/io/node-fs'
import { LOCK_FILE_NAME } from '../../src/io/lock'
import { CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT } from '../../src/storage/log-dir-state'
import { batchOf, DIRS, expectCode, manualClock } from './helpers'

const tmpDirs: string[] = []
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kafkalite-lifecycle-'))
  tmpDirs.push(d)
  return d
}
afterEach(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Every public engine operation, called with plausible arguments. */
const OPERATIONS: [string, (e: Engine) => unknown][] = [
  ['createTopic', (e) => e.createTopic('new')],
  ['deleteTopic', (e) => e.deleteTopic('t')],
  ['createPartitions', (e) => e.createPartitions('t', 5)],
  ['alterTopicConfig', (e) => e.alterTopicConfig('t', { retentionMs: 1 })],
  ['listTopics', (e) => e.listTopics()],
  ['describeTopic', (e) => e.describeTopic('t')],
  ['log', (e) => e.log('t', 0)],
  ['partitionCount', (e) => e.partitionCount('t')],
  ['topicConfig', (e) => e.topicConfig('t')],
  ['hasTopic', (e) => e.hasTopic('t')],
  ['onClose', (e) => e.onClose(() => {})],
  ['allocateProducerId', (e) => e.allocateProducerId()],
  ['ensureTopic', (e) => e.ensureTopic('t')],
  ['ensureOpen', (e) => e.ensureOpen()],
]

describe('Engine lifecycle', () => {
  it('close is idempotent: concurrent and later calls share one promise', async () => {
    const e = await Engine.open({ inMemory: true, clock: manualClock() })
    const first = e.close()
    expect(e.close()).toBe(first)
    await first
    expect(e.close()).toBe(first)
    await e.close()
    expect(e.state).toBe('closed')
  })

  it.each(OPERATIONS)('after close, %s throws or rejects ERR_CLOSED', async (_, call) => {
    const e = await Engine.open({ inMemory: true, clock: manualClock() })
    await e.createTopic('t')
    await e.close()
    await expectCode(() => call(e), 'ERR_CLOSED')
  })

  it('public operations are refused while closing, but close hooks can still append to logs', async () => {
    const e = await Engine.open({ inMemory: true, clock: manualClock() })
    await e.createTopic('t')
    const seen: string[] = []
    e.onClose(async () => {
      seen.push('hook')
      await expectCode(() => e.createTopic('late'), 'ERR_CLOSED')
      e.log('t', 0).append(batchOf(['flushed by a producer at close']))
    })
    await e.close()
    expect(seen).toEqual(['hook'])
  })

  it('close hooks run in reverse order of registration; an unregistered hook does not run', async () => {
    const e = await Engine.open({ inMemory: true, clock: manualClock() })
    const order: number[] = []
    e.onClose(() => void order.push(1))
    const off = e.onClose(() => void order.push(2))
    e.onClose(() => void order.push(3))
    off()
    await e.close()
    expect(order).toEqual([3, 1])
  })

  it('a failing close hook fails close, yet the logs close, the marker is written and the lock released', async () => {
    const fs = new MemoryFileSystem()
    const e = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await e.createTopic('t')
    e.log('t', 0).append(batchOf(['a']))
    e.onClose(() => {
      throw new Error('producer flush failed')
    })
    await expect(e.close()).rejects.toThrow('producer flush failed')
    expect(e.state).toBe('closed')
    expect(fs.exists(`/d/${CLEAN_SHUTDOWN_FILE}`)).toBe(true)
    expect(fs.exists(`/d/${LOCK_FILE_NAME}`)).toBe(false)
    const again = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    expect(again.log('t', 0).logEndOffset).toBe(1)
    await again.close()
  })

  it('a log that fails to flush at close fails close and leaves no clean-shutdown marker', async () => {
    const fs = new MemoryFileSystem()
    const e = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await e.createTopic('t', { durability: 'none' })
    e.log('t', 0).append(batchOf(['a']))
    fs.injectFault({ op: 'sync', pathIncludes: '.log', errno: 'EIO' })
    await expectCode(() => e.close(), 'ERR_IO')
    fs.clearFaults()
    expect(fs.exists(`/d/${CLEAN_SHUTDOWN_FILE}`)).toBe(false)
    expect(fs.exists(`/d/${LOCK_FILE_NAME}`)).toBe(false)
  })

  it('open removes the clean-shutdown marker before anything can append; close writes it back', async () => {
    const fs = new MemoryFileSystem()
    const a = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await a.close()
    expect(fs.exists(`/d/${CLEAN_SHUTDOWN_FILE}`)).toBe(true)
    const b = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    expect(b.openReport.cleanShutdown).toBe(true)
    expect(fs.exists(`/d/${CLEAN_SHUTDOWN_FILE}`)).toBe(false)
    // The removal is durable: a machine crash now must not look like a clean shutdown.
    const crashed = fs.crash()
    expect(crashed.exists(`/d/${CLEAN_SHUTDOWN_FILE}`)).toBe(false)
  })

  it.each(DIRS)('after a clean close, reopening a log of thousands of batches reads no .log bytes ($name fs)', async ({ make }) => {
    const env = make()
    try {
      const fs = new CountingFileSystem(env.fs)
      const a = await Engine.open({ dir: env.dir, fs, clock: manualClock() })
      await a.createTopic('t', { partitions: 2, segmentBytes: 32 * 1024, durability: 'none' })
      for (let i = 0; i < 3000; i++) a.log('t', i % 2).append(batchOf([`record-${i}`]))
      await a.close()

      fs.reset()
      const b = await Engine.open({ dir: env.dir, fs, clock: manualClock() })
      expect(b.openReport.cleanShutdown).toBe(true)
      expect(b.describeTopic('t').partitions.map((p) => p.logEndOffset)).toEqual([1500, 1500])
      expect(b.log('t', 0).segmentCount).toBeGreaterThan(1)
      expect(fs.bytesRead('.log')).toBe(0)
      await b.close()
    } finally {
      env.cleanup()
    }
  })

  it('after a process crash, reopening recovers (reads .log bytes) and reports it', async () => {
    const fs = new MemoryFileSystem()
    const a = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await a.createTopic('t', { durability: 'none' })
    for (let i = 0; i < 100; i++) a.log('t', 0).append(batchOf([`record-${i}`]))
    const survivor = fs.processCrash()
    survivor.unlink(`/d/${LOCK_FILE_NAME}`) // the dead process's lock names our own pid and instance
    survivor.resetStats()
    const b = await Engine.open({ dir: '/d', fs: survivor, clock: manualClock() })
    expect(b.openReport.cleanShutdown).toBe(false)
    expect(b.openReport.partitions).toHaveLength(1)
    expect(b.openReport.partitions[0]).toMatchObject({ topic: 't', partition: 0 })
    expect(b.openReport.partitions[0]!.segmentsRecovered).toBeGreaterThan(0)
    expect(survivor.bytesReadByPath((p) => p.endsWith('.log'))).toBeGreaterThan(0)
    expect(b.log('t', 0).logEndOffset).toBe(100)
    await b.close()
  })

  it('the open report lists the damage recovery repaired, per partition', async () => {
    const fs = new MemoryFileSystem()
    const a = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await a.createTopic('t', { partitions: 2 })
    a.log('t', 1).append(batchOf(['a']))
    a.log('t', 1).append(batchOf(['b']))
    await a.close()
    // Tear the last batch and remove the marker, as a crash mid-write would leave it.
    const logPath = '/d/t-1/00000000000000000000.log'
    const h = fs.open(logPath, 'rw')
    h.truncate(h.size() - 3)
    h.close()
    fs.unlink(`/d/${CLEAN_SHUTDOWN_FILE}`)
    const b = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    const p1 = b.openReport.partitions.find((p) => p.partition === 1)!
    expect(p1.bytesTruncated).toBeGreaterThan(0)
    expect(p1.problems.join('\n')).toMatch(/truncated/)
    expect(b.openReport.partitions.find((p) => p.partition === 0)!.problems).toEqual([])
    expect(b.log('t', 1).logEndOffset).toBe(1)
    await b.close()
  })

  it('a second open of the same directory is ERR_LOCKED naming the holder; reopen after close works', async () => {
    const dir = tmp()
    const a = await Engine.open({ dir, clock: manualClock() })
    const error = await expectCode(() => Engine.open({ dir, clock: manualClock() }), 'ERR_LOCKED')
    expect(error.message).toContain(`pid ${process.pid}`)
    // The refused open changed nothing: the first instance still works and still holds the lock.
    await a.createTopic('t')
    await a.close()
    const b = await Engine.open({ dir, clock: manualClock() })
    expect(b.listTopics()).toEqual(['t'])
    await b.close()
  })

  it('a relative dir is resolved against the working directory and shares the lock with its absolute form', async () => {
    const dir = tmp()
    const a = await Engine.open({ dir, clock: manualClock() })
    const relative = join('.', require('node:path').relative(process.cwd(), dir))
    await expectCode(() => Engine.open({ dir: relative, clock: manualClock() }), 'ERR_LOCKED')
    expect(a.dir).toBe(dir)
    await a.close()
  })

  it.each([
    ['no location', {}],
    ['a dir that is not a string', { dir: 5 }],
    ['an empty dir', { dir: '' }],
    ['both dir and inMemory', { dir: '/x', inMemory: true }],
    ['inMemory that is not a boolean', { inMemory: 'yes' }],
    ['options that are not an object', 'data'],
  ])('open with %s is ERR_INVALID_ARGUMENT', async (_, options) => {
    await expectCode(() => Engine.open(options as unknown as EngineOptions), 'ERR_INVALID_ARGUMENT')
  })

  it('open with a bad engine config is ERR_INVALID_CONFIG naming the key, and creates nothing on disk', async () => {
    const dir = join(tmp(), 'not-yet')
    const error = await expectCode(() => Engine.open({ dir, numPartitions: 0 }), 'ERR_INVALID_CONFIG')
    expect(error.message).toContain('numPartitions')
    await expectCode(() => Engine.open({ dir, topicDefaults: { retentionMs: 'forever' } } as never), 'ERR_INVALID_CONFIG')
    await expectCode(() => Engine.open({ dir, 'log.retention.ms': 5 } as never), 'ERR_INVALID_CONFIG')
    expect(existsSync(dir)).toBe(false)
  })

  it('in-memory mode lives at a fixed root and each open is a fresh, empty directory', async () => {
    const a = await Engine.open({ inMemory: true })
    expect(a.dir).toBe(IN_MEMORY_ROOT)
    await a.createTopic('t')
    const b = await Engine.open({ inMemory: true })
    expect(b.listTopics()).toEqual([])
    await a.close()
    await b.close()
  })
})

describe('Engine checkpoints', () => {
  it('the checkpoint timer fires on the manual clock and writes recovery-point-offset-checkpoint', async () => {
    const fs = new MemoryFileSystem()
    const clock = manualClock()
    const e = await Engine.open({ dir: '/d', fs, clock, logFlushOffsetCheckpointIntervalMs: 10_000 })
    await e.createTopic('t', { partitions: 2 })
    e.log('t', 1).append(batchOf(['a', 'b', 'c']))
    await e.log('t', 1).flush()
    expect(fs.exists(`/d/${RECOVERY_POINT_CHECKPOINT}`)).toBe(false)

    clock.advance(9_999)
    await e.idle()
    expect(fs.exists(`/d/${RECOVERY_POINT_CHECKPOINT}`)).toBe(false)
    clock.advance(1)
    await e.idle()
    expect(fs.readFile(`/d/${RECOVERY_POINT_CHECKPOINT}`).toString()).toBe('0\n2\nt 0 0\nt 1 3\n')

    // And again one interval later, with the new recovery point.
    e.log('t', 0).append(batchOf(['x']))
    await e.log('t', 0).flush()
    clock.advance(10_000)
    await e.idle()
    expect(fs.readFile(`/d/${RECOVERY_POINT_CHECKPOINT}`).toString()).toBe('0\n2\nt 0 1\nt 1 3\n')
    await e.close()
  })

  it('close stops the timer: no timer is left pending, so nothing keeps the process alive', async () => {
    const clock = manualClock()
    const e = await Engine.open({ inMemory: true, clock })
    expect(clock.pendingTimers()).toBeGreaterThan(0)
    await e.close()
    expect(clock.pendingTimers()).toBe(0)
  })

  it('an interval of 0 disables periodic checkpoints (close still writes them)', async () => {
    const fs = new MemoryFileSystem()
    const clock = manualClock()
    const e = await Engine.open({ dir: '/d', fs, clock, logFlushOffsetCheckpointIntervalMs: 0, logFlushStartOffsetCheckpointIntervalMs: 0 })
    // Only the cleaner's timer is left (retention cannot be switched off, as in Kafka), and time passing
    // writes no checkpoint.
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(3_600_000)
    await e.idle()
    expect(fs.exists(`/d/${RECOVERY_POINT_CHECKPOINT}`)).toBe(false)
    await e.close()
    expect(fs.exists(`/d/${RECOVERY_POINT_CHECKPOINT}`)).toBe(true)
  })
})

describe('Engine producer ids', () => {
  it('are distinct under concurrent allocation and start at 0 with epoch 0', async () => {
    const e = await Engine.open({ inMemory: true })
    const ids = await Promise.all(Array.from({ length: 50 }, () => e.allocateProducerId()))
    expect(ids.map((i) => i.producerId)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(new Set(ids.map((i) => i.producerEpoch))).toEqual(new Set([0]))
    await e.close()
  })

  it('never repeat across a restart, even after a machine crash right after allocation', async () => {
    let fs = new MemoryFileSystem()
    const seen = new Set<number>()
    for (let round = 0; round < 3; round++) {
      const e = await Engine.open({ dir: '/d', fs, clock: manualClock() })
      for (let i = 0; i < 3; i++) {
        const { producerId } = await e.allocateProducerId()
        expect(seen.has(producerId)).toBe(false)
        expect([...seen].every((s) => s < producerId)).toBe(true)
        seen.add(producerId)
      }
      fs = fs.crash()
      // The lock names our own pid and instance; a real restart would be a new process.
      if (fs.exists(`/d/${LOCK_FILE_NAME}`)) fs.unlink(`/d/${LOCK_FILE_NAME}`)
    }
  })

  it('an unreadable producer id file refuses the open rather than risk reusing an id', async () => {
    const fs = new MemoryFileSystem()
    const e = await Engine.open({ dir: '/d', fs, clock: manualClock() })
    await e.allocateProducerId()
    await e.close()
    await fs.writeFileAtomic('/d/kafkalite-producer-ids.json', Buffer.from('{"version":0}'))
    await expectCode(() => Engine.open({ dir: '/d', fs, clock: manualClock() }), 'ERR_CORRUPT_RECORD')
  })
})

describe('Engine on the real disk', () => {
  it('NodeFileSystem is the default for dir, and the directory is created', async () => {
    const dir = join(tmp(), 'a', 'b')
    const e = await Engine.open({ dir })
    expect(e.fs).toBeInstanceOf(NodeFileSystem)
    expect(existsSync(dir)).toBe(true)
    await e.close()
  })
})

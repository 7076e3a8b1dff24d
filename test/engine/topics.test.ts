import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_TOPIC_CONFIG } from '../../src/config/index'
import { Engine, type EngineOptions } from '../../src/engine/engine'
import { PARTITION_METADATA_FILE } from '../../src/engine/topic-id'
import { TOPIC_REGISTRY_FILE } from '../../src/engine/topic-registry'
import type { ErrorCode } from '../../src/errors/index'
import type { FileSystem } from '../../src/io/file-system'
import { batchOf, DIRS, expectCode, manualClock, snapshotTree } from './helpers'

describe.each(DIRS)('Engine topics ($name fs)', ({ make }) => {
  let env: ReturnType<typeof make>
  let open: Engine[] = []
  const openEngine = async (extra: Partial<EngineOptions> = {}): Promise<Engine> => {
    const engine = await Engine.open({ dir: env.dir, fs: env.fs, clock: manualClock(), ...extra } as EngineOptions)
    open.push(engine)
    return engine
  }

  afterEach(async () => {
    for (const e of open) await e.close().catch(() => undefined)
    open = []
    env?.cleanup()
  })

  const fresh = () => {
    env = make()
    return env
  }

  it('topic metadata and config survive a reopen', async () => {
    fresh()
    const a = await openEngine()
    await a.createTopic('orders', { partitions: 3, retentionMs: 3_600_000, cleanupPolicy: ['compact', 'delete'] })
    await a.createTopic('audit.log')
    const before = a.describeTopic('orders')
    await a.close()

    const b = await openEngine()
    expect(b.listTopics()).toEqual(['audit.log', 'orders'])
    const after = b.describeTopic('orders')
    expect(after.topicId).toBe(before.topicId)
    expect(after.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
    expect(after.config.retentionMs).toBe(3_600_000)
    expect(after.config.cleanupPolicy).toBe('compact,delete')
    expect(after.config).toEqual(before.config)
    expect(b.partitionCount('audit.log')).toBe(1)
  })

  it('the registry stores only overrides, so topic defaults given at open apply to every other key', async () => {
    fresh()
    const a = await openEngine()
    await a.createTopic('t', { retentionMs: 1000 })
    await a.close()
    const registry = JSON.parse(env.fs.readFile(`${env.dir}/${TOPIC_REGISTRY_FILE}`).toString('utf8'))
    expect(registry.topics[0].config).toEqual({ retentionMs: 1000 })

    const b = await openEngine({ topicDefaults: { segmentBytes: 4096, retentionMs: 5 } })
    expect(b.topicConfig('t').segmentBytes).toBe(4096)
    expect(b.topicConfig('t').retentionMs).toBe(1000)
  })

  it('each partition directory holds Kafka\'s partition.metadata naming the topic id', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t', { partitions: 2 })
    const { topicId } = e.describeTopic('t')
    expect(topicId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    for (const p of [0, 1]) {
      expect(env.fs.readFile(`${env.dir}/t-${p}/${PARTITION_METADATA_FILE}`).toString('utf8')).toBe(`version: 0\ntopic_id: ${topicId}`)
    }
  })

  it('the data directory root holds no directories but partitions (Kafka log dir rule)', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('a', { partitions: 2 })
    await e.close()
    const dirs = env.fs.readdir(env.dir).filter((n) => env.fs.stat(`${env.dir}/${n}`).isDirectory)
    expect(dirs).toEqual(['a-0', 'a-1'])
  })

  it.each([
    ['.', 'ERR_INVALID_TOPIC'],
    ['..', 'ERR_INVALID_TOPIC'],
    ['../x', 'ERR_INVALID_TOPIC'],
    ['a/b', 'ERR_INVALID_TOPIC'],
    ['x'.repeat(250), 'ERR_INVALID_TOPIC'],
    ['', 'ERR_INVALID_TOPIC'],
  ] as const)('createTopic(%j) is %s and leaves the directory unchanged', async (name, code) => {
    fresh()
    const e = await openEngine()
    await e.createTopic('existing')
    const before = snapshotTree(env.fs, env.dir)
    await expectCode(() => e.createTopic(name), code)
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
  })

  it.each([
    ['a name that is not a string', 42, {}, 'ERR_INVALID_TOPIC'],
    ['options that are not an object', 't', 'three', 'ERR_INVALID_ARGUMENT'],
    ['zero partitions', 't', { partitions: 0 }, 'ERR_INVALID_PARTITIONS'],
    ['a fractional partition count', 't', { partitions: 1.5 }, 'ERR_INVALID_PARTITIONS'],
    ['a partition count given as a string', 't', { partitions: '3' }, 'ERR_INVALID_PARTITIONS'],
    ['an out-of-range config value', 't', { retentionMs: -2 }, 'ERR_INVALID_CONFIG'],
    ['an unknown config key', 't', { 'retention.ms': 5 }, 'ERR_INVALID_CONFIG'],
    ['a config value of the wrong type', 't', { segmentBytes: '1GB' }, 'ERR_INVALID_CONFIG'],
  ] as [string, unknown, unknown, ErrorCode][])('createTopic with %s is rejected and leaves the directory unchanged', async (_, name, options, code) => {
    fresh()
    const e = await openEngine()
    const before = snapshotTree(env.fs, env.dir)
    await expectCode(() => e.createTopic(name as string, options as never), code)
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
    expect(e.listTopics()).toEqual([])
  })

  it('createTopic of an existing name is ERR_TOPIC_ALREADY_EXISTS; a name colliding on . and _ is ERR_INVALID_TOPIC', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('a.b')
    const before = snapshotTree(env.fs, env.dir)
    await expectCode(() => e.createTopic('a.b'), 'ERR_TOPIC_ALREADY_EXISTS')
    const collision = await expectCode(() => e.createTopic('a_b'), 'ERR_INVALID_TOPIC')
    expect(collision.message).toContain('a.b')
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
  })

  it('createPartitions adds partitions that survive a reopen and keeps the data of the old ones', async () => {
    fresh()
    const a = await openEngine()
    await a.createTopic('t', { partitions: 2 })
    a.log('t', 1).append(batchOf(['x', 'y']))
    await a.createPartitions('t', 5)
    expect(a.partitionCount('t')).toBe(5)
    a.log('t', 4).append(batchOf(['z']))
    await a.close()
    const b = await openEngine()
    expect(b.describeTopic('t').partitions.map((p) => p.logEndOffset)).toEqual([0, 2, 0, 0, 1])
  })

  it.each([
    [2, 'a decrease'],
    [3, 'the same count'],
  ])('createPartitions to %i (%s) is ERR_INVALID_PARTITIONS explaining keyed ordering, directory unchanged', async (count) => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t', { partitions: 3 })
    const before = snapshotTree(env.fs, env.dir)
    const error = await expectCode(() => e.createPartitions('t', count), 'ERR_INVALID_PARTITIONS')
    expect(error.message).toMatch(/hash\(key\) % partitions/)
    expect(error.message).toMatch(/ordering/)
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
    expect(e.partitionCount('t')).toBe(3)
  })

  it('alterTopicConfig applies to running logs, persists, and null removes an override', async () => {
    fresh()
    const a = await openEngine()
    await a.createTopic('t', { maxMessageBytes: 100_000 })
    await a.alterTopicConfig('t', { maxMessageBytes: 100, retentionMs: 42 })
    expect(a.topicConfig('t').maxMessageBytes).toBe(100)
    expect(a.log('t', 0).logConfig.maxMessageBytes).toBe(100)
    await expectCode(() => a.log('t', 0).append(batchOf(['a'.repeat(200)])), 'ERR_RECORD_TOO_LARGE')
    await a.close()

    const b = await openEngine()
    expect(b.topicConfig('t').maxMessageBytes).toBe(100)
    await b.alterTopicConfig('t', { maxMessageBytes: null })
    expect(b.topicConfig('t').maxMessageBytes).toBe(DEFAULT_TOPIC_CONFIG.maxMessageBytes)
    expect(b.topicConfig('t').retentionMs).toBe(42)
  })

  it('alterTopicConfig with a bad value is ERR_INVALID_CONFIG naming the key, and changes nothing', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t', { retentionMs: 1000 })
    const before = snapshotTree(env.fs, env.dir)
    const error = await expectCode(() => e.alterTopicConfig('t', { retentionMs: 5, segmentBytes: -1 }), 'ERR_INVALID_CONFIG')
    expect(error.message).toContain('segmentBytes')
    expect(error.context.key).toBe('segmentBytes')
    await expectCode(() => e.alterTopicConfig('t', { 'segment.bytes': null } as never), 'ERR_INVALID_CONFIG')
    await expectCode(() => e.alterTopicConfig('t', 'retentionMs=5' as never), 'ERR_INVALID_ARGUMENT')
    // A relation between keys is checked on the merged result.
    await expectCode(() => e.alterTopicConfig('t', { minCompactionLagMs: 10, maxCompactionLagMs: 5 }), 'ERR_INVALID_CONFIG')
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
    expect(e.topicConfig('t').retentionMs).toBe(1000)
  })

  it('deleteTopic removes the partition directories and the registry entry, durably', async () => {
    fresh()
    const a = await openEngine()
    await a.createTopic('gone', { partitions: 2 })
    await a.createTopic('kept')
    a.log('gone', 0).append(batchOf(['x']))
    await a.deleteTopic('gone')
    expect(a.listTopics()).toEqual(['kept'])
    expect(env.fs.readdir(env.dir).filter((n) => n.startsWith('gone'))).toEqual([])
    await expectCode(() => a.log('gone', 0), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await a.close()
    const b = await openEngine()
    expect(b.listTopics()).toEqual(['kept'])
  })

  it('a deleted topic can be created again, empty and with a new id', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t')
    const oldId = e.describeTopic('t').topicId
    e.log('t', 0).append(batchOf(['x']))
    await e.deleteTopic('t')
    await e.createTopic('t')
    expect(e.describeTopic('t').topicId).not.toBe(oldId)
    expect(e.log('t', 0).logEndOffset).toBe(0)
  })

  it('every operation on an unknown topic is ERR_UNKNOWN_TOPIC_OR_PARTITION, and so is an unknown partition', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t', { partitions: 2 })
    const before = snapshotTree(env.fs, env.dir)
    await expectCode(() => e.deleteTopic('nope'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.createPartitions('nope', 3), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.alterTopicConfig('nope', {}), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.describeTopic('nope'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.log('nope', 0), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.partitionCount('nope'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    await expectCode(() => e.topicConfig('nope'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
    for (const p of [2, -1, 0.5, Number.NaN]) {
      const error = await expectCode(() => e.log('t', p), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
      expect(error.context.topic).toBe('t')
    }
    expect(snapshotTree(env.fs, env.dir)).toEqual(before)
  })

  it('ensureTopic auto-creates with numPartitions unless autoCreateTopicsEnable is false', async () => {
    fresh()
    const a = await openEngine({ numPartitions: 3 })
    await a.ensureTopic('auto')
    expect(a.partitionCount('auto')).toBe(3)
    await a.ensureTopic('auto')
    await a.close()
    const b = await openEngine({ autoCreateTopicsEnable: false })
    await b.ensureTopic('auto')
    await expectCode(() => b.ensureTopic('other'), 'ERR_UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('listTopics leaves out Kafka internal topics unless asked', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('__consumer_offsets', { partitions: 2 })
    await e.createTopic('orders')
    expect(e.listTopics()).toEqual(['orders'])
    expect(e.listTopics({ listInternal: true })).toEqual(['__consumer_offsets', 'orders'])
  })

  it('describeTopic reports offsets, sizes and segment counts per partition', async () => {
    fresh()
    const e = await openEngine()
    await e.createTopic('t', { partitions: 2, segmentBytes: 100 })
    const log = e.log('t', 1)
    for (let i = 0; i < 3; i++) log.append(batchOf(['value-' + i]))
    await log.flush()
    const d = e.describeTopic('t')
    expect(d.name).toBe('t')
    expect(d.partitions[0]).toEqual({
      partition: 0,
      logStartOffset: 0,
      logEndOffset: 0,
      highWatermark: 0,
      size: 0,
      segmentCount: 1,
      cleanerState: 'idle',
      dirtyRatio: 0,
      lastCleanTimeMs: null,
      bytesReclaimed: 0,
    })
    expect(d.partitions[1]).toMatchObject({ partition: 1, logStartOffset: 0, logEndOffset: 3, highWatermark: 3, segmentCount: 3 })
    expect(d.partitions[1]!.size).toBe(log.size)
    expect(d.partitions[1]!.size).toBeGreaterThan(0)
    expect(d.config.segmentBytes).toBe(100)
  })
})

describe('Engine topics: debris from interrupted work', () => {
  const setup = async (): Promise<{ fs: FileSystem; dir: string; reopen: () => Promise<Engine> }> => {
    const { fs, dir } = DIRS[0]!.make()
    const reopen = () => Engine.open({ dir, fs, clock: manualClock() })
    return { fs, dir, reopen }
  }

  it('removes -delete directories and unregistered partition directories that kafkalite made, and reports them', async () => {
    const { fs, dir, reopen } = await setup()
    const a = await reopen()
    await a.createTopic('t')
    await a.close()
    fs.mkdirp(`${dir}/old-0.0123456789abcdef0123456789abcdef-delete`)
    fs.mkdirp(`${dir}/half-0`) // an interrupted create: directory made, nothing in it yet
    fs.mkdirp(`${dir}/t-1`) // a createPartitions that never reached the registry
    await fs.writeFileAtomic(`${dir}/t-1/${PARTITION_METADATA_FILE}`, Buffer.from('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAg'))

    const b = await reopen()
    expect(fs.readdir(dir).filter((n) => fs.stat(`${dir}/${n}`).isDirectory)).toEqual(['t-0'])
    expect(b.partitionCount('t')).toBe(1)
    expect(b.openReport.problems.join('\n')).toMatch(/old-0\..*-delete/)
    expect(b.openReport.problems.join('\n')).toMatch(/half-0/)
    expect(b.openReport.problems.join('\n')).toMatch(/t-1/)
    await b.close()
  })

  it('leaves alone a partition-like directory it did not make, and refuses to create a topic over it', async () => {
    const { fs, dir, reopen } = await setup()
    fs.mkdirp(`${dir}/mine-0`)
    const h = fs.open(`${dir}/mine-0/notes.txt`, 'rw')
    h.write(Buffer.from('hello'), 0, 5, 0)
    h.close()
    const e = await reopen()
    expect(fs.readdir(`${dir}/mine-0`)).toEqual(['notes.txt'])
    expect(e.openReport.problems.join('\n')).toMatch(/left mine-0 alone/)
    await expectCode(() => e.createTopic('mine'), 'ERR_INVALID_STATE')
    expect(fs.readdir(`${dir}/mine-0`)).toEqual(['notes.txt'])
    expect(e.listTopics()).toEqual([])
    await e.close()
  })

  it('a registered partition whose directory vanished reopens as an empty log, reported', async () => {
    const { fs, dir, reopen } = await setup()
    const a = await reopen()
    await a.createTopic('t', { partitions: 2 })
    a.log('t', 1).append(batchOf(['x']))
    await a.close()
    fs.rmrf(`${dir}/t-1`)
    const b = await reopen()
    expect(b.log('t', 1).logEndOffset).toBe(0)
    expect(b.openReport.problems.join('\n')).toMatch(/t-1: partition directory was missing/)
    expect(fs.readFile(`${dir}/t-1/${PARTITION_METADATA_FILE}`).toString()).toContain(b.describeTopic('t').topicId)
    await b.close()
  })

  it('a corrupt registry refuses the open with ERR_CORRUPT_RECORD and releases the lock', async () => {
    const { fs, dir, reopen } = await setup()
    const a = await reopen()
    await a.createTopic('t')
    await a.close()
    await fs.writeFileAtomic(`${dir}/${TOPIC_REGISTRY_FILE}`, Buffer.from('{"version":0,"topics":[{"name":"../escape"'))
    await expectCode(() => reopen(), 'ERR_CORRUPT_RECORD')
    expect(fs.exists(`${dir}/.lock`)).toBe(false)
    await fs.writeFileAtomic(
      `${dir}/${TOPIC_REGISTRY_FILE}`,
      Buffer.from(JSON.stringify({ version: 0, topics: [{ name: '../escape', topicId: 'AAAAAAAAAAAAAAAAAAAAAg', partitions: 1, config: {} }] })),
    )
    const error = await expectCode(() => reopen(), 'ERR_CORRUPT_RECORD')
    expect(error.message).toMatch(/invalid topic name/)
    expect(fs.exists('/escape-0')).toBe(false)
  })
})

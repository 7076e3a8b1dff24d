/**
 * Admin operations against a machine crash at every mutating file-system operation they perform.
 *
 * Invariants checked after each crash and reopen:
 * - the topic set is either the one before the operation or the one after it, never a mix;
 * - every registered partition has its directory with `partition.metadata` naming the registered id,
 *   found there at open (not re-created by the open's self-healing);
 * - no partition directory exists that the registry does not list (debris is removed at open);
 * - records appended and fsynced before the operation are all still there.
 */
import { describe, expect, it } from 'vitest'
import { Engine } from '../../src/engine/engine'
import { PARTITION_METADATA_FILE } from '../../src/engine/topic-id'
import { LOCK_FILE_NAME } from '../../src/io/lock'
import { MemoryFileSystem, SimulatedCrash } from '../../src/io/memory-fs'
import { batchOf, manualClock } from './helpers'

const DIR = '/d'

async function reopen(fs: MemoryFileSystem): Promise<Engine> {
  // The dead process's lock names our own pid and instance id; a real restart would be a new process.
  if (fs.exists(`${DIR}/${LOCK_FILE_NAME}`)) fs.unlink(`${DIR}/${LOCK_FILE_NAME}`)
  return Engine.open({ dir: DIR, fs, clock: manualClock() })
}

function checkConsistent(fs: MemoryFileSystem, e: Engine): void {
  // The open would heal a registered partition without a directory; it must never have to.
  expect(e.openReport.problems.filter((p) => /was missing/.test(p))).toEqual([])
  const registered = new Set<string>()
  for (const name of e.listTopics({ listInternal: true })) {
    const { topicId, partitions } = e.describeTopic(name)
    for (const { partition } of partitions) {
      registered.add(`${name}-${partition}`)
      expect(fs.readFile(`${DIR}/${name}-${partition}/${PARTITION_METADATA_FILE}`).toString()).toBe(`version: 0\ntopic_id: ${topicId}`)
    }
  }
  const dirs = fs.readdir(DIR).filter((n) => fs.stat(`${DIR}/${n}`).isDirectory)
  expect(dirs.sort()).toEqual([...registered].sort())
}

/** Runs `operation` with a crash at op 1, 2, 3, ... until it completes without reaching the crash. */
async function atEveryOp(
  prepare: (e: Engine) => Promise<void>,
  operation: (e: Engine) => Promise<void>,
  check: (e: Engine, completed: boolean) => void,
): Promise<number> {
  for (let n = 1; ; n++) {
    const fs = new MemoryFileSystem()
    const e = await Engine.open({ dir: DIR, fs, clock: manualClock() })
    await prepare(e)
    fs.crashAtOp(n)
    let completed = true
    try {
      await operation(e)
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err
      completed = false
    }
    const survivor = fs.crash()
    const after = await reopen(survivor)
    try {
      checkConsistent(survivor, after)
      check(after, completed)
    } catch (err) {
      throw new Error(`after a crash at op ${n}: ${(err as Error).message}`, { cause: err })
    }
    await after.close()
    if (completed) return n
  }
}

async function withBase(e: Engine): Promise<void> {
  await e.createTopic('base', { partitions: 2 })
  e.log('base', 1).append(batchOf(['kept', 'too']))
  await e.log('base', 1).flush()
}

function baseIntact(e: Engine): void {
  expect(e.log('base', 1).logEndOffset).toBe(2)
}

describe('Engine admin operations under a machine crash at every operation', () => {
  it('createTopic leaves either no topic or the whole topic', async () => {
    const ops = await atEveryOp(withBase, (e) => e.createTopic('t', { partitions: 3, retentionMs: 5000 }), (e, completed) => {
      baseIntact(e)
      if (completed) expect(e.listTopics()).toContain('t')
      if (e.listTopics().includes('t')) {
        expect(e.partitionCount('t')).toBe(3)
        expect(e.topicConfig('t').retentionMs).toBe(5000)
      }
    })
    expect(ops).toBeGreaterThan(5)
  })

  it('deleteTopic leaves either the whole topic or none of it', async () => {
    await atEveryOp(
      async (e) => {
        await withBase(e)
        await e.createTopic('t', { partitions: 2 })
        e.log('t', 0).append(batchOf(['a', 'b', 'c']))
        await e.log('t', 0).flush()
      },
      (e) => e.deleteTopic('t'),
      (e, completed) => {
        baseIntact(e)
        if (completed) expect(e.listTopics()).not.toContain('t')
        if (e.listTopics().includes('t')) expect(e.log('t', 0).logEndOffset).toBe(3)
      },
    )
  })

  it('createPartitions leaves either the old count or the new one, with the old data', async () => {
    await atEveryOp(
      withBase,
      (e) => e.createPartitions('base', 4),
      (e, completed) => {
        baseIntact(e)
        if (completed) expect(e.partitionCount('base')).toBe(4)
        expect([2, 4]).toContain(e.partitionCount('base'))
      },
    )
  })

  it('alterTopicConfig leaves either the old config or the new one', async () => {
    await atEveryOp(
      withBase,
      (e) => e.alterTopicConfig('base', { retentionMs: 1234 }),
      (e, completed) => {
        baseIntact(e)
        if (completed) expect(e.topicConfig('base').retentionMs).toBe(1234)
        expect([1234, 7 * 24 * 3600 * 1000]).toContain(e.topicConfig('base').retentionMs)
      },
    )
  })
})

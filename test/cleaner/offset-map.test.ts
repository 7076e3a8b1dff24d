/**
 * The bounded key → offset map and the key digest it stores, and compaction of a partition with more
 * distinct keys than the map holds (several rounds, memory fixed at the budget).
 */
import { describe, expect, it } from 'vitest'
import { murmur3x86128 } from '../../src/cleaner/key-hash'
import { BYTES_PER_ENTRY, OffsetMap } from '../../src/cleaner/offset-map'
import { CleanerManager } from '../../src/cleaner/cleaner-manager'
import { isKafkaliteError } from '../../src/errors/index'
import { fixture, keyedBatch, readAllChecked } from './helpers'

const key = (s: string) => Buffer.from(s)

describe('Cleaner > key digest', () => {
  it("is MurmurHash3_x86_128: SMHasher's verification value 0xB3ECE62A", () => {
    // SMHasher VerificationTest: hash keys {}, {0}, {0,1}, … {0..254} with seed 256 - i, then hash the
    // concatenated digests with seed 0; the first 32 bits of that digest are the verification value.
    const keys = new Uint8Array(256)
    const digests = new Uint8Array(256 * 16)
    const out = new Int32Array(4)
    for (let i = 0; i < 256; i++) {
      keys[i] = i
      murmur3x86128(keys, 0, i, 256 - i, out)
      for (let w = 0; w < 4; w++) new DataView(digests.buffer).setInt32(i * 16 + w * 4, out[w]!, true)
    }
    murmur3x86128(digests, 0, digests.length, 0, out)
    expect(out[0]! >>> 0).toBe(0xb3ece62a)
  })

  it('hashes a key the same wherever it sits in a buffer', () => {
    const a = new Int32Array(4)
    const b = new Int32Array(4)
    murmur3x86128(Buffer.from('user-1'), 0, 6, 0, a)
    murmur3x86128(Buffer.from('xxuser-1yy'), 2, 8, 0, b)
    expect([...a]).toEqual([...b])
  })
})

describe('Cleaner > offset map', () => {
  it('allocates exactly its memory budget and derives its capacity from it', () => {
    const map = new OffsetMap(24 * 100 + 7, 0.9)
    expect(map.memoryBytes).toBe(24 * 100 + 7)
    expect(map.slots).toBe(100)
    expect(map.maxEntries).toBe(90)
  })

  it('keeps the latest offset per key and -1 for unknown keys', () => {
    const map = new OffsetMap(24 * 64, 0.9)
    expect(map.put(key('a'), 0, 1, 3)).toBe(true)
    expect(map.put(key('b'), 0, 1, 4)).toBe(true)
    expect(map.put(key('a'), 0, 1, 2 ** 40 + 5)).toBe(true)
    expect(map.get(key('a'), 0, 1)).toBe(2 ** 40 + 5)
    expect(map.get(key('b'), 0, 1)).toBe(4)
    expect(map.get(key('c'), 0, 1)).toBe(-1)
    expect(map.size).toBe(2)
    expect(map.latestOffset).toBe(2 ** 40 + 5)
    map.clear()
    expect(map.get(key('a'), 0, 1)).toBe(-1)
    expect(map.size).toBe(0)
  })

  it('refuses new keys once full, but still updates known ones', () => {
    const map = new OffsetMap(24 * 10, 0.5)
    for (let i = 0; i < 5; i++) expect(map.put(key(`k${i}`), 0, 2, i)).toBe(true)
    expect(map.isFull).toBe(true)
    expect(map.put(key('k9'), 0, 2, 9)).toBe(false)
    expect(map.get(key('k9'), 0, 2)).toBe(-1)
    expect(map.put(key('k0'), 0, 2, 10)).toBe(true)
    expect(map.get(key('k0'), 0, 2)).toBe(10)
  })

  it('grows its table inside the budget and finds every key after each rehash', () => {
    const map = new OffsetMap(24 * 400_000, 0.9)
    expect(map.memoryBytes).toBe(24 * 400_000)
    expect(map.maxEntries).toBe(Math.floor((400_000 - 32 * 1024) * 0.9))
    const regions = new Set<number>()
    const keys = Array.from({ length: 300_000 }, (_, i) => key(`key-${i}`))
    let refused = 0
    for (let i = 0; i < keys.length; i++) {
      if (!map.put(keys[i]!, 0, keys[i]!.length, i * 3)) refused++
      regions.add(map.slotsInUse)
    }
    expect(refused).toBe(0)
    expect([...regions]).toEqual([32 * 1024, 400_000 - 32 * 1024])
    const wrong = keys.filter((k, i) => map.get(k, 0, k.length) !== i * 3)
    expect(wrong).toEqual([])
    expect(map.get(key('absent'), 0, 6)).toBe(-1)
    map.clear()
    expect(map.slotsInUse).toBe(32 * 1024)
    expect(map.get(key('key-1'), 0, 5)).toBe(-1)
  })

  it('empties and grows its table only in bounded steps when driven by work(due), and finds every key after a sliced rehash', () => {
    const map = new OffsetMap(24 * 400_000, 0.9)
    const always = () => true
    // clear() leaves the first region to be emptied: one step per call when the slice is always spent.
    expect(map.hasPendingWork).toBe(true)
    let steps = 0
    while (!map.work(always)) steps++
    expect(steps).toBeGreaterThan(1)
    const keys = Array.from({ length: 20_000 }, (_, i) => key(`key-${i}`))
    let growSteps = 0
    for (let i = 0; i < keys.length; i++) {
      // As the compactor does before each batch: pending work first, a step at a time.
      while (map.hasPendingWork && !map.work(always)) growSteps++
      expect(map.put(keys[i]!, 0, keys[i]!.length, i)).toBe(true)
    }
    // Half of the first region (16 Ki keys) started a grow into the last region; it took many steps.
    expect(map.slotsInUse).toBe(400_000 - 32 * 1024)
    expect(growSteps).toBeGreaterThan(100)
    expect(keys.filter((k, i) => map.get(k, 0, k.length) !== i)).toEqual([])
  })

  it('answers get from the old region while a grow is under way', () => {
    const map = new OffsetMap(24 * 400_000, 0.9)
    const keys = Array.from({ length: 16_384 }, (_, i) => key(`key-${i}`))
    for (let i = 0; i < keys.length; i++) map.put(keys[i]!, 0, keys[i]!.length, i)
    expect(map.hasPendingWork).toBe(true)
    // A few steps of the grow (emptying the new region), then lookups, then the rest.
    for (let i = 0; i < 5; i++) expect(map.work(() => true)).toBe(false)
    expect(keys.filter((k, i) => map.get(k, 0, k.length) !== i)).toEqual([])
    expect(map.get(key('absent'), 0, 6)).toBe(-1)
    expect(map.work(() => false)).toBe(true)
    expect(map.hasPendingWork).toBe(false)
    expect(keys.filter((k, i) => map.get(k, 0, k.length) !== i)).toEqual([])
  })

  it('abandons a grow under way when cleared, and holds nothing after', () => {
    const map = new OffsetMap(24 * 400_000, 0.9)
    for (let i = 0; i < 16_384; i++) map.put(key(`key-${i}`), 0, `key-${i}`.length, i)
    map.work(() => true)
    map.clear()
    expect(map.size).toBe(0)
    expect(map.slotsInUse).toBe(32 * 1024)
    expect(map.get(key('key-1'), 0, 5)).toBe(-1)
    expect(map.put(key('key-1'), 0, 5, 7)).toBe(true)
    expect(map.get(key('key-1'), 0, 5)).toBe(7)
    expect(map.size).toBe(1)
  })

  it('never fills every slot, even at load factor 1', () => {
    const map = new OffsetMap(24 * 4, 1)
    expect(map.maxEntries).toBe(3)
    for (let i = 0; i < 3; i++) map.put(key(`k${i}`), 0, 2, i)
    expect(map.get(key('missing'), 0, 7)).toBe(-1)
  })

  it('rejects a budget that cannot hold one key with ERR_INVALID_CONFIG naming logCleanerDedupeBufferSize', async () => {
    let error: unknown
    try {
      new OffsetMap(BYTES_PER_ENTRY, 0.9)
    } catch (e) {
      error = e
    }
    expect(isKafkaliteError(error, 'ERR_INVALID_CONFIG')).toBe(true)
    expect((error as Error).message).toContain('logCleanerDedupeBufferSize')
    // The cleaner checks it when it is created, before any round.
    const f = await fixture()
    expect(() => new CleanerManager(f.host, { dedupeBufferSize: 30 })).toThrow(/logCleanerDedupeBufferSize/)
  })
})

describe('Cleaner > compaction within the map budget', () => {
  it('compacts more keys than the map holds over several rounds, memory fixed at the budget', async () => {
    const budget = 24 * 300 // 300 slots, 270 keys per round at load factor 0.9
    const f = await fixture({ segmentBytes: 2000, minCleanableDirtyRatio: 0 }, { dedupeBufferSize: budget })
    const keys = 1000
    for (const version of ['v1', 'v2']) {
      for (let i = 0; i < keys; i += 10) {
        f.log.append(keyedBatch(Array.from({ length: 10 }, (_, j) => ({ key: `key-${i + j}`, value: `${version}-${i + j}` })), f.clock))
      }
    }
    f.log.roll()

    const reports = await f.cleaner.runUntilIdle()
    const rounds = reports.flatMap((r) => r.compactions)

    expect(f.cleaner.offsetMapMemoryBytes).toBe(budget)
    expect(rounds.length).toBeGreaterThan(1)
    for (const round of rounds) expect(round.keysMapped).toBeLessThanOrEqual(270)
    expect(rounds.slice(0, -1).every((r) => r.mapFull)).toBe(true)
    expect(rounds[rounds.length - 1]!.endOffset).toBe(2 * keys)
    const records = readAllChecked(f.log)
    expect(records).toHaveLength(keys)
    expect(records.every((r, i) => r.offset === keys + i && r.value!.toString() === `v2-${i}`)).toBe(true)
  })
})

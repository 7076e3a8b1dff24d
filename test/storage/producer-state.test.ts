/**
 * Producer state in the partition log: duplicates of recent batches are dropped with the original
 * offsets, gaps and fenced epochs are typed errors with nothing written, and the state survives a
 * restart through Kafka-format `.snapshot` files or, without them, by replaying the log.
 */
import { describe, expect, it } from 'vitest'
import { decodeProducerSnapshot } from '../../src/codec/producer-snapshot'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { segmentFileName, SNAPSHOT_SUFFIX } from '../../src/storage/file-names'
import type { LogConfig } from '../../src/storage/log-config'
import type { PartitionLog } from '../../src/storage/partition-log'
import { BATCHES_TO_RETAIN } from '../../src/storage/producer-state'
import { batchOf, openLog, readAll } from '../helpers/storage'

const DIR = '/d/t-0'
const T0 = 1_700_000_000_000

/** An idempotent producer's batch: `count` records with sequences seq .. seq+count-1. */
function idempotentBatch(producerId: number, producerEpoch: number, baseSequence: number, count = 1, tag = 'v'): Buffer {
  return encodeRecordBatch({
    producerId,
    producerEpoch,
    baseSequence,
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`${tag}${baseSequence + i}`), timestamp: T0 + i })),
  })
}

async function open(fs: MemoryFileSystem, config: Partial<LogConfig> = {}, extra: Parameters<typeof openLog>[2] = {}): Promise<PartitionLog> {
  return openLog(fs, DIR, { config: { durability: 'none', ...config }, ...extra })
}

function snapshotNames(fs: MemoryFileSystem): string[] {
  return fs.readdir(DIR).filter((n) => n.endsWith(SNAPSHOT_SUFFIX))
}

describe('ProducerState > append', () => {
  it('a retried batch writes nothing and returns the original offsets with duplicate: true', async () => {
    const log = await open(new MemoryFileSystem())
    const first = log.append(idempotentBatch(7, 0, 0, 3), { deepValidation: false })
    log.append(batchOf(['other']))
    const sizeBefore = log.size
    const retry = log.append(idempotentBatch(7, 0, 0, 3), { deepValidation: false })
    expect(retry).toEqual({ baseOffset: first.baseOffset, lastOffset: first.lastOffset, recordCount: 3, logAppendTime: -1, duplicate: true })
    expect(log.size).toBe(sizeBefore)
    expect(log.logEndOffset).toBe(4)
    expect(first.duplicate).toBeUndefined()
    await log.close()
  })

  it(`recognises a retry of any of the last ${BATCHES_TO_RETAIN} batches, not of older ones`, async () => {
    const log = await open(new MemoryFileSystem())
    const results = Array.from({ length: 7 }, (_, i) => log.append(idempotentBatch(1, 0, i * 2, 2)))
    // Batches 2..6 are cached; batch 1 (sequences 2..3) is not.
    const retried = log.append(idempotentBatch(1, 0, 4, 2))
    expect(retried).toMatchObject({ baseOffset: results[2]!.baseOffset, duplicate: true })
    expect(() => log.append(idempotentBatch(1, 0, 2, 2))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_ORDER_SEQUENCE' }))
    expect(log.logEndOffset).toBe(14)
    await log.close()
  })

  it('a sequence gap is ERR_OUT_OF_ORDER_SEQUENCE and nothing is written', async () => {
    const log = await open(new MemoryFileSystem())
    log.append(idempotentBatch(3, 0, 0, 2))
    const size = log.size
    expect(() => log.append(idempotentBatch(3, 0, 5))).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_ORDER_SEQUENCE', topic: 't', partition: 0 }),
    )
    expect(log.size).toBe(size)
    log.append(idempotentBatch(3, 0, 2))
    expect(log.logEndOffset).toBe(3)
    await log.close()
  })

  it('an older epoch is ERR_INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0', async () => {
    const log = await open(new MemoryFileSystem())
    log.append(idempotentBatch(3, 1, 0))
    expect(() => log.append(idempotentBatch(3, 0, 1))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PRODUCER_EPOCH' }))
    expect(() => log.append(idempotentBatch(3, 2, 1))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_ORDER_SEQUENCE' }))
    log.append(idempotentBatch(3, 2, 0))
    // The old epoch's batches are forgotten: its retry is fenced, not a duplicate.
    expect(() => log.append(idempotentBatch(3, 1, 0))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PRODUCER_EPOCH' }))
    expect(log.logEndOffset).toBe(2)
    await log.close()
  })

  it('an unknown producer may start at any sequence, as in Kafka', async () => {
    const log = await open(new MemoryFileSystem())
    expect(log.append(idempotentBatch(9, 4, 17)).baseOffset).toBe(0)
    expect(log.producerState.entry(9)).toMatchObject({ producerEpoch: 4, batches: [{ firstSeq: 17, lastSeq: 17, firstOffset: 0, lastOffset: 0 }] })
    await log.close()
  })

  it('checks sequences across the batches of one append; a gap in any refuses the whole append', async () => {
    const log = await open(new MemoryFileSystem())
    log.append(Buffer.concat([idempotentBatch(1, 0, 0, 2), idempotentBatch(1, 0, 2, 2), idempotentBatch(2, 0, 0)]))
    expect(log.logEndOffset).toBe(5)
    expect(() => log.append(Buffer.concat([idempotentBatch(1, 0, 4), idempotentBatch(1, 0, 6)]))).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_ORDER_SEQUENCE' }),
    )
    expect(log.logEndOffset).toBe(5)
    expect(log.producerState.entry(1)!.batches.map((b) => b.lastSeq)).toEqual([1, 3])
    await log.close()
  })

  it('a duplicate inside a multi-batch append is ERR_INVALID_ARGUMENT and nothing is written', async () => {
    const log = await open(new MemoryFileSystem())
    log.append(idempotentBatch(1, 0, 0))
    expect(() => log.append(Buffer.concat([idempotentBatch(1, 0, 0), idempotentBatch(1, 0, 1)]))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(log.logEndOffset).toBe(1)
    await log.close()
  })

  it('a duplicate on a LogAppendTime topic returns the time of the original append', async () => {
    const clock = new ManualClock(T0)
    const log = await openLog(new MemoryFileSystem(), DIR, { clock, config: { durability: 'none', messageTimestampType: 'LogAppendTime' } })
    const first = log.append(idempotentBatch(1, 0, 0))
    clock.advance(5000)
    expect(log.append(idempotentBatch(1, 0, 0))).toMatchObject({ logAppendTime: first.logAppendTime, duplicate: true })
    expect(first.logAppendTime).toBe(T0)
    await log.close()
  })

  it('batches without a producer id leave no producer state', async () => {
    const log = await open(new MemoryFileSystem())
    for (let i = 0; i < 10; i++) log.append(batchOf(['a', 'b']))
    log.append(batchOf(['a', 'b']))
    expect(log.logEndOffset).toBe(22)
    expect(log.producerState.producerCount).toBe(0)
    await log.close()
  })
})

describe('ProducerState > snapshots', () => {
  it('close writes <log end offset>.snapshot in Kafka format, and a clean reopen dedups without reading .log data', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs)
    log.append(idempotentBatch(5, 2, 0, 3))
    log.append(idempotentBatch(6, 0, 10, 2))
    await log.close()
    const name = segmentFileName(5, SNAPSHOT_SUFFIX)
    expect(name).toBe('00000000000000000005.snapshot')
    expect(snapshotNames(fs)).toEqual([name])
    const entries = decodeProducerSnapshot(fs.readFile(`${DIR}/${name}`))
    expect(entries.sort((a, b) => a.producerId - b.producerId)).toEqual([
      { producerId: 5, producerEpoch: 2, lastSequence: 2, lastOffset: 2, offsetDelta: 2, timestamp: T0 + 2, coordinatorEpoch: -1, currentTxnFirstOffset: -1 },
      { producerId: 6, producerEpoch: 0, lastSequence: 11, lastOffset: 4, offsetDelta: 1, timestamp: T0 + 1, coordinatorEpoch: -1, currentTxnFirstOffset: -1 },
    ])

    fs.resetStats()
    const again = await open(fs, {}, { recoveryPoint: 5, hadCleanShutdown: true, cleanShutdownState: log.cleanShutdownState })
    expect(fs.bytesReadByPath((p) => p.endsWith('.log'))).toBe(0)
    expect(again.append(idempotentBatch(6, 0, 10, 2))).toMatchObject({ baseOffset: 3, lastOffset: 4, duplicate: true })
    expect(() => again.append(idempotentBatch(5, 2, 4))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_ORDER_SEQUENCE' }))
    expect(again.append(idempotentBatch(5, 2, 3)).baseOffset).toBe(5)
    await again.close()
  })

  it('each roll writes a snapshot named by the new segment base offset; only the last two are kept', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs, { segmentBytes: 300 })
    for (let i = 0; i < 12; i++) log.append(idempotentBatch(1, 0, i, 1, 'x'.repeat(60)))
    const bases = log.segmentList.map((s) => s.baseOffset)
    expect(bases.length).toBeGreaterThan(3)
    expect(snapshotNames(fs)).toEqual(bases.slice(-2).map((b) => segmentFileName(b, SNAPSHOT_SUFFIX)))
    const last = bases[bases.length - 1]!
    const [entry] = decodeProducerSnapshot(fs.readFile(`${DIR}/${segmentFileName(last, SNAPSHOT_SUFFIX)}`))
    expect(entry).toMatchObject({ producerId: 1, lastSequence: last - 1, lastOffset: last - 1 })
    await log.close()
  })

  it('after a process crash, replays only the log after the latest snapshot', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs, { segmentBytes: 300 })
    for (let i = 0; i < 12; i++) log.append(idempotentBatch(1, 0, i, 1, 'x'.repeat(60)))
    const active = log.activeSegment.baseOffset
    const survivor = fs.processCrash()
    survivor.resetStats()
    const again = await open(survivor, { segmentBytes: 300 }, { recoveryPoint: active })
    const readBeforeActive = survivor.bytesReadByPath((p) => p.endsWith('.log') && !p.endsWith(segmentFileName(active, '.log')))
    expect(readBeforeActive).toBe(0)
    expect(again.append(idempotentBatch(1, 0, 11, 1, 'x'.repeat(60)))).toMatchObject({ baseOffset: 11, duplicate: true })
    expect(again.append(idempotentBatch(1, 0, 10, 1, 'x'.repeat(60)))).toMatchObject({ baseOffset: 10, duplicate: true })
    await again.close()
  })

  it('without snapshots, the state is rebuilt from the whole log', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs, { segmentBytes: 300 })
    for (let i = 0; i < 12; i++) log.append(idempotentBatch(1, 3, i, 1, 'x'.repeat(60)))
    log.append(idempotentBatch(2, 0, 0, 4))
    await log.close()
    for (const n of snapshotNames(fs)) fs.unlink(`${DIR}/${n}`)
    const again = await open(fs, { segmentBytes: 300 }, { recoveryPoint: 16, hadCleanShutdown: true })
    expect(again.producerState.entry(1)).toMatchObject({ producerEpoch: 3 })
    expect(again.producerState.entry(1)!.batches.map((b) => b.lastSeq)).toEqual([7, 8, 9, 10, 11])
    expect(again.append(idempotentBatch(1, 3, 8, 1, 'x'.repeat(60)))).toMatchObject({ baseOffset: 8, duplicate: true })
    expect(again.append(idempotentBatch(2, 0, 0, 4))).toMatchObject({ baseOffset: 12, lastOffset: 15, duplicate: true })
    expect(again.logEndOffset).toBe(16)
    await again.close()
  })

  it('a corrupt snapshot is deleted and reported, and the state rebuilt from the log', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs)
    log.append(idempotentBatch(4, 0, 0, 2))
    await log.close()
    const path = `${DIR}/${segmentFileName(2, SNAPSHOT_SUFFIX)}`
    const bytes = fs.readFile(path)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
    const h = fs.open(path, 'rw')
    h.write(bytes, 0, bytes.length, 0)
    h.close()
    const again = await open(fs, {}, { recoveryPoint: 2, hadCleanShutdown: true })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/deleted producer snapshot 00000000000000000002\.snapshot: .*CRC/)
    expect(again.append(idempotentBatch(4, 0, 0, 2))).toMatchObject({ baseOffset: 0, duplicate: true })
    await again.close()
  })

  it('a snapshot past the log end (its data is gone) is deleted at open', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs)
    log.append(idempotentBatch(4, 0, 0, 2))
    await log.close()
    fs.rename(`${DIR}/${segmentFileName(2, SNAPSHOT_SUFFIX)}`, `${DIR}/${segmentFileName(99, SNAPSHOT_SUFFIX)}`)
    const again = await open(fs, {}, { recoveryPoint: 2, hadCleanShutdown: true })
    expect(again.recoveryReport.problems.join('\n')).toMatch(/00000000000000000099\.snapshot: it is past the log end 2/)
    expect(fs.exists(`${DIR}/${segmentFileName(99, SNAPSHOT_SUFFIX)}`)).toBe(false)
    expect(again.append(idempotentBatch(4, 0, 0, 2)).duplicate).toBe(true)
    await again.close()
  })
})

describe('ProducerState > truncation', () => {
  it('a truncated batch is no longer a duplicate, and snapshots past the new end are deleted', async () => {
    const fs = new MemoryFileSystem()
    const log = await open(fs, { segmentBytes: 300 })
    for (let i = 0; i < 12; i++) log.append(idempotentBatch(1, 0, i, 1, 'x'.repeat(60)))
    const bases = log.segmentList.map((s) => s.baseOffset)
    const cut = bases[bases.length - 2]! - 1
    log.truncateTo(cut)
    expect(log.logEndOffset).toBe(cut)
    expect(snapshotNames(fs).every((n) => Number(n.slice(0, 20)) <= cut)).toBe(true)
    expect(log.producerState.entry(1)!.batches.at(-1)!.lastSeq).toBe(cut - 1)
    // The retry of the first removed batch is written again, at the same offset.
    const again = log.append(idempotentBatch(1, 0, cut, 1, 'x'.repeat(60)))
    expect(again).toMatchObject({ baseOffset: cut })
    expect(again.duplicate).toBeUndefined()
    await log.close()
  })

  it('when an fsync fails in fsync durability, the cut tail is written again by the retry, once', async () => {
    const fs = new MemoryFileSystem()
    const log = await openLog(fs, DIR, { config: { durability: 'fsync' } })
    log.append(idempotentBatch(1, 0, 0))
    await log.flush()
    const clear = fs.injectFault({ op: 'sync', errno: 'EIO', times: 1 })
    const { lastOffset } = log.append(idempotentBatch(1, 0, 1))
    await expect(log.flushUpTo(lastOffset)).rejects.toMatchObject({ code: 'ERR_IO' })
    clear()
    expect(log.logEndOffset).toBe(1)
    const retry = log.append(idempotentBatch(1, 0, 1))
    expect(retry.duplicate).toBeUndefined()
    await log.flushUpTo(retry.lastOffset)
    expect(log.append(idempotentBatch(1, 0, 1)).duplicate).toBe(true)
    expect(readAll(log).map((r) => r.value?.toString())).toEqual(['v0', 'v1'])
    await log.close()
  })
})

/**
 * The fetcher against batches a producer cannot append but a log can hold: transaction markers (control
 * batches), compacted batches with offset gaps, and batches compaction emptied. A fake engine serves one
 * partition whose read() follows PartitionLog's contract: whole batches, from the one holding the offset,
 * up to maxBytes but at least one.
 */
import { describe, expect, it } from 'vitest'
import { encodeControlBatch, encodeRecordBatch, setBaseOffset } from '../../src/codec/record-batch'
import { Consumer, type ConsumerEngine } from '../../src/consumer/consumer'
import { ManualClock } from '../../src/io/clock'
import type { PartitionLog } from '../../src/storage/partition-log'
import { offsets, values } from './helpers'

function batchAt(baseOffset: number, buf: Buffer): Buffer {
  setBaseOffset(buf, 0, baseOffset)
  return buf
}

const rec = (value: string, offsetDelta: number) => ({ key: null, value: Buffer.from(value), timestamp: 1, offsetDelta })

/** offsets: 0-2 data, 3 COMMIT marker, 4-8 compacted (4 and 6 remain), 9-10 emptied, 11 data. */
const BATCHES = [
  batchAt(0, encodeRecordBatch({ records: [rec('a0', 0), rec('a1', 1), rec('a2', 2)] })),
  batchAt(3, encodeControlBatch({ type: 'COMMIT', producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1 })),
  batchAt(4, encodeRecordBatch({ records: [rec('b4', 0), rec('b6', 2)], lastOffsetDelta: 4 })),
  batchAt(9, encodeRecordBatch({ records: [], lastOffsetDelta: 1 })),
  batchAt(11, encodeRecordBatch({ records: [rec('d11', 0)] })),
]
const LAST_OFFSETS = [2, 3, 8, 10, 11]

function fakeLog(): PartitionLog {
  const log = {
    logStartOffset: 0,
    logEndOffset: 12,
    highWatermark: 12,
    logConfig: { maxDecompressedBatchBytes: 1 << 20 },
    read(fromOffset: number, maxBytes: number) {
      let i = LAST_OFFSETS.findIndex((last) => last >= fromOffset)
      const out: Buffer[] = []
      let bytes = 0
      for (; i >= 0 && i < BATCHES.length; i++) {
        if (out.length > 0 && bytes + BATCHES[i]!.length > maxBytes) break
        out.push(BATCHES[i]!)
        bytes += BATCHES[i]!.length
      }
      return { records: Buffer.concat(out), highWatermark: 12, logStartOffset: 0, logEndOffset: 12 }
    },
    onHighWatermark: () => () => undefined,
  }
  return log as unknown as PartitionLog
}

function consumerOnFakeLog(config = {}): Consumer {
  const log = fakeLog()
  const engine: ConsumerEngine = {
    clock: new ManualClock(),
    log: () => log,
    onClose: () => () => undefined,
    ensureOpen: () => undefined,
  }
  const consumer = new Consumer(engine, { autoOffsetReset: 'earliest', ...config })
  consumer.assign([{ topic: 't', partition: 0 }])
  return consumer
}

describe('Consumer > fetcher > batches shaped by transactions and compaction', () => {
  it('skips control batches and offset gaps, and the position ends past the last batch', async () => {
    const consumer = consumerOnFakeLog()

    const records = await consumer.poll({ timeoutMs: 0 })

    expect(values(records)).toEqual(['a0', 'a1', 'a2', 'b4', 'b6', 'd11'])
    expect(offsets(records)).toEqual([0, 1, 2, 4, 6, 11])
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(12)
  })

  it('a position inside a gap starts at the next record that exists', async () => {
    const consumer = consumerOnFakeLog()
    consumer.seek({ topic: 't', partition: 0 }, 5)
    expect(offsets(await consumer.poll({ timeoutMs: 0 }))).toEqual([6, 11])
    consumer.seek({ topic: 't', partition: 0 }, 7)
    expect(offsets(await consumer.poll({ timeoutMs: 0 }))).toEqual([11])
  })

  it('stopping at maxRecords inside a gapped batch resumes with the next record, not the gap', async () => {
    const consumer = consumerOnFakeLog()
    expect(offsets(await consumer.poll({ maxRecords: 4, timeoutMs: 0 }))).toEqual([0, 1, 2, 4])
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(5)
    expect(offsets(await consumer.poll({ maxRecords: 1, timeoutMs: 0 }))).toEqual([6])
    expect(offsets(await consumer.poll({ timeoutMs: 0 }))).toEqual([11])
  })

  it('reading one batch at a time (tiny fetch sizes) gives the same records', async () => {
    const consumer = consumerOnFakeLog({ maxPartitionFetchBytes: 1, fetchMaxBytes: 1 })
    const all: number[] = []
    for (let i = 0; i < 10; i++) all.push(...offsets(await consumer.poll({ timeoutMs: 0 })))
    expect(all).toEqual([0, 1, 2, 4, 6, 11])
  })
})

describe('Consumer > fetcher > failures', () => {
  it('a reset made before the round fails on a corrupt batch is still counted and reported', async () => {
    const corrupt = batchAt(5, encodeRecordBatch({ records: [rec('x', 0)] }))
    corrupt[61] = 0x7e // the first record's length runs past the batch
    const log = {
      logStartOffset: 5,
      logEndOffset: 6,
      highWatermark: 6,
      logConfig: { maxDecompressedBatchBytes: 1 << 20 },
      read: () => ({ records: corrupt, highWatermark: 6, logStartOffset: 5, logEndOffset: 6 }),
      onHighWatermark: () => () => undefined,
    } as unknown as PartitionLog
    const engine: ConsumerEngine = { clock: new ManualClock(), log: () => log, onClose: () => () => undefined, ensureOpen: () => undefined }
    const consumer = new Consumer(engine, { autoOffsetReset: 'earliest' })
    consumer.addPartitions([{ topic: 't', partition: 0, offset: 1 }])
    const events: unknown[] = []
    consumer.on('offsetReset', (e) => events.push(e))

    await expect(consumer.poll({ timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_CORRUPT_RECORD' })

    expect(events).toMatchObject([{ from: 1, to: 5, recordsSkipped: 4 }])
    expect(consumer.offsetResetTotals()).toEqual([{ topic: 't', partition: 0, resets: 1, recordsSkipped: 4 }])
  })

  it('a corrupt batch fails every poll that reaches it; the records after it are not returned instead', async () => {
    const corrupt = batchAt(0, encodeRecordBatch({ records: [rec('x0', 0), rec('x1', 1)] }))
    corrupt[61] = 0x7e // the first record's length runs past the batch
    const good = batchAt(2, encodeRecordBatch({ records: [rec('y2', 0), rec('y3', 1)] }))
    const both = Buffer.concat([corrupt, good])
    const log = {
      logStartOffset: 0,
      logEndOffset: 4,
      highWatermark: 4,
      logConfig: { maxDecompressedBatchBytes: 1 << 20 },
      read: (from: number) => ({ records: from < 2 ? both : good, highWatermark: 4, logStartOffset: 0, logEndOffset: 4 }),
      onHighWatermark: () => () => undefined,
    } as unknown as PartitionLog
    const engine: ConsumerEngine = { clock: new ManualClock(), log: () => log, onClose: () => () => undefined, ensureOpen: () => undefined }
    const consumer = new Consumer(engine, { autoOffsetReset: 'earliest' })
    consumer.assign([{ topic: 't', partition: 0 }])

    for (let i = 0; i < 3; i++) await expect(consumer.poll({ timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_CORRUPT_RECORD' })
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(0)
    // Seeking past the corrupt batch is how an application moves on (as in Kafka).
    consumer.seek({ topic: 't', partition: 0 }, 2)
    expect(values(await consumer.poll({ timeoutMs: 0 }))).toEqual(['y2', 'y3'])
  })
})

/**
 * Review probe of lazy consumer records: across random batches (uncompressed and compressed, null keys
 * and values, headers with null values, LogAppendTime and CreateTime topics, out-of-order timestamps),
 * random poll sizes, fetch limits and seeks, every record a consumer returns equals the record the codec
 * decodes from the log, and its fields are read only after all polls (no buffer under a record reused).
 */
import { describe, expect, it } from 'vitest'
import { encodeRecordBatch, type CompressionCodec, type Record } from '../../src/codec/record-batch'
import type { ConsumerRecord } from '../../src/consumer/types'
import { recordsIn } from '../helpers/storage'
import { mulberry32 } from '../helpers/random'
import { openEnv, T0 } from '../consumer/helpers'

const CODECS: CompressionCodec[] = ['none', 'gzip', 'lz4', 'snappy', 'zstd']

describe('review: lazy consumer records', () => {
  it.each([['CreateTime'], ['LogAppendTime']] as const)('equal the codec decode of the log, read after every poll (%s)', async (timestampType) => {
    const rand = mulberry32(timestampType.length)
    const env = await openEnv({})
    await env.engine.createTopic('t', { partitions: 1, messageTimestampType: timestampType })
    const log = env.engine.log('t', 0)
    for (let b = 0; b < 60; b++) {
      const n = 1 + Math.floor(rand() * 12)
      const bytes = (max: number): Buffer | null => (rand() < 0.15 ? null : Buffer.from(Array.from({ length: Math.floor(rand() * max) }, () => Math.floor(rand() * 256))))
      const records = Array.from({ length: n }, () => ({
        key: bytes(20),
        value: bytes(rand() < 0.1 ? 5000 : 200),
        headers: rand() < 0.6 ? [] : Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, h) => ({ key: `h${h}`, value: bytes(10) })),
        timestamp: T0 + Math.floor((rand() - 0.5) * 100_000),
      }))
      const result = log.append(encodeRecordBatch({ compression: CODECS[Math.floor(rand() * CODECS.length)]!, records }))
      await log.flushUpTo(result.lastOffset)
    }
    env.clock.advance(1)
    const expected: Record[] = recordsIn(log.read(0, 1 << 30).records)
    for (let run = 0; run < 8; run++) {
      const consumer = env.consumer({ maxPollRecords: 1 + Math.floor(rand() * 40), maxPartitionFetchBytes: 1 + Math.floor(rand() * 20_000), fetchMaxBytes: 1 + Math.floor(rand() * 50_000) })
      consumer.assign([{ topic: 't', partition: 0 }])
      const from = Math.floor(rand() * expected.length)
      consumer.seek({ topic: 't', partition: 0 }, from)
      const got: ConsumerRecord[] = []
      for (let polls = 0; polls < 10_000 && (got.length === 0 || got[got.length - 1]!.offset < expected.length - 1); polls++) {
        got.push(...(await consumer.poll({ timeoutMs: 0, maxRecords: 1 + Math.floor(rand() * 30) })))
      }
      // Fields read only now, after every poll.
      const fields = (r: ConsumerRecord | Record) => [r.offset, r.timestamp, r.key, r.value, r.headers]
      expect(got.map(fields)).toEqual(expected.slice(from).map(fields))
      await consumer.close()
    }
  })
})

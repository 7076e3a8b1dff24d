/**
 * An independent decoder reads compacted segments: every `.log` file of a compacted partition (offset
 * gaps, empty batches, delete horizons, every codec) is decoded batch by batch with kafkajs 2.2.4's
 * RecordBatch decoder, each CRC is checked with kafkajs's own CRC-32C (kafkajs does not check it), and
 * the records kafkajs sees are the ones our reader sees.
 */
import { describe, expect, it } from 'vitest'
import { loadCodecs } from '../../src/codec/compression/index'
import { CRC_OFFSET, ATTRIBUTES_OFFSET, readBatchHeader } from '../../src/codec/record-batch'
import { Decoder, decodeRecordBatch, kafkajsCrc32C } from '../helpers/kafkajs'
import { fixture, keyedBatch, readAllChecked } from './helpers'

describe('Cleaner > compacted segments and kafkajs', () => {
  it('decode with kafkajs, CRCs valid, with the records our reader returns', async () => {
    await loadCodecs()
    const f = await fixture({ segmentBytes: 600, minCleanableDirtyRatio: 0.01, deleteRetentionMs: 1000 })
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
    let sequence = 0
    for (let i = 0; i < 40; i++) {
      const records = Array.from({ length: 1 + (i % 4) }, (_, j) => ({ key: `k${(i * 3 + j) % 9}`, value: i % 11 === 10 ? null : `value-${i}-${j}` }))
      const producer = i % 3 === 0 ? { producerId: 5, baseSequence: sequence } : {}
      if (i % 3 === 0) sequence += records.length
      f.log.append(keyedBatch(records, f.clock, { compression: codecs[i % codecs.length]!, ...producer }))
    }
    f.log.append(keyedBatch([{ key: 'k2', value: null }, { key: 'k7', value: 'last' }], f.clock, { compression: 'gzip' }))
    f.log.roll()
    f.setConfig({ segmentBytes: 1500 })

    const crossCheck = async () => {
      const ours = readAllChecked(f.log).map((r) => `${r.offset}:${r.key}=${r.value ?? '✝'}`)
      const theirs: string[] = []
      const stats = { batches: 0, empty: 0, horizons: 0, records: ours.length, tombstones: ours.filter((r) => r.endsWith('✝')).length }
      for (const segment of f.log.segmentList) {
        const file = f.fs.readFile(segment.logPath)
        for (let pos = 0; pos < file.length; ) {
          const header = readBatchHeader(file, pos)
          const batch = file.subarray(pos, pos + header.sizeInBytes)
          expect(kafkajsCrc32C(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0).toBe(batch.readUInt32BE(CRC_OFFSET))
          const decoded = await decodeRecordBatch(new Decoder(batch))
          expect(Number(decoded.firstOffset) + decoded.lastOffsetDelta).toBe(header.lastOffset)
          for (const r of decoded.records) theirs.push(`${r.offset}:${r.key}=${r.value ?? '✝'}`)
          stats.batches++
          if (header.recordsCount === 0) stats.empty++
          if (header.hasDeleteHorizon) stats.horizons++
          pos += header.sizeInBytes
        }
      }
      expect(theirs).toEqual(ours)
      return stats
    }

    await f.cleaner.runOnce()
    const first = await crossCheck()
    expect(first.horizons).toBeGreaterThan(0)
    expect(first.empty).toBeGreaterThan(0)
    expect(first.tombstones).toBeGreaterThan(0)
    f.clock.advance(2000)
    await f.cleaner.runOnce()
    const second = await crossCheck()
    expect(second.tombstones).toBe(0)
    expect(second.records).toBeLessThan(first.records)
    expect(second.batches).toBeGreaterThan(5)
  })
})

/**
 * Review probe of index entries kept in memory until roll, close, fsync or rename: a random mix of
 * appends, rolls, truncations (below and above the written entries), clean reopens, process crashes
 * (pending entries lost, data kept) and machine crashes after a flush, checked after every step
 * against a model: every offset reads from the batch holding it, with the model's value, and a
 * timestamp lookup finds the first record at or after the time.
 */
import { describe, expect, it } from 'vitest'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { ManualClock } from '../../src/io/clock'
import { MemoryFileSystem } from '../../src/io/memory-fs'
import { PartitionLog } from '../../src/storage/partition-log'
import { recordsIn, testConfig } from '../helpers/storage'
import { mulberry32 } from '../helpers/random'

const T0 = 1_700_000_000_000

describe('review: pending index entries against a model', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i', async (seed) => {
    const rand = mulberry32(seed)
    let fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    await fs.syncDir('/')
    const config = testConfig({ durability: 'fsync', segmentBytes: 30_000, indexIntervalBytes: 1500, segmentIndexBytes: 8 * 40 })
    const open = () => PartitionLog.open({ fs, clock: new ManualClock(T0), dir: '/d/t-0', topic: 't', partition: 0, config })
    let log = await open()
    const model: string[] = []
    const check = (what: string) => {
      expect(log.logEndOffset, what).toBe(model.length)
      for (let i = 0; i < 12 && model.length > 0; i++) {
        const o = Math.floor(rand() * model.length)
        const got = recordsIn(log.read(o, 1, { uncommitted: true }).records)
        expect(got[0]!.offset, `${what}: read ${o}`).toBeLessThanOrEqual(o)
        const r = got.find((x) => x.offset === o)
        expect(r?.value?.toString(), `${what}: value at ${o}`).toBe(model[o])
      }
    }
    for (let step = 0; step < 400; step++) {
      const op = rand()
      let what: string
      if (op < 0.7) {
        const n = 1 + Math.floor(rand() * 4)
        const size = Math.floor(rand() ** 2 * 2500)
        const values = Array.from({ length: n }, (_, i) => `${model.length + i}:`.padEnd(size, 'x'))
        log.append(encodeRecordBatch({ records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: T0 + model.length + i })) }), { deepValidation: false })
        model.push(...values)
        what = `append ${n}`
      } else if (op < 0.78) {
        log.roll()
        what = 'roll'
      } else if (op < 0.86 && model.length > 0) {
        const to = Math.floor(model.length - rand() ** 2 * Math.min(model.length, 60))
        log.truncateTo(to)
        model.length = log.logEndOffset
        what = `truncate ${to}`
      } else if (op < 0.92) {
        await log.close()
        log = await open()
        expect(log.recoveryReport.problems, `clean reopen at step ${step}`).toEqual([])
        what = 'reopen'
      } else if (op < 0.97) {
        if (rand() < 0.5) await log.flush()
        fs = fs.processCrash()
        log = await open()
        what = 'process crash'
      } else {
        await log.flush()
        const durable = model.length
        fs = fs.crash()
        log = await open()
        expect(log.logEndOffset, `machine crash after flush: ${log.recoveryReport.problems.join('; ')}`).toBe(durable)
        what = 'machine crash'
      }
      if (process.env.RV_TRACE) console.log(`step ${step} ${what} leo=${log.logEndOffset} segs=${log.segmentList.map((s) => `${s.baseOffset}:${s.size}:${s.offsetIndex.entries}/${s.timeIndex.entries}`).join(' ')}`)
      check(`step ${step} (${what})`)
      if (step % 20 === 0 && model.length > 0) {
        await log.flush()
        const o = Math.floor(rand() * model.length)
        expect(log.offsetForTimestamp(T0 + o)?.offset, `step ${step}: time lookup ${o}`).toBe(o)
      }
    }
    await log.close()
  })
})

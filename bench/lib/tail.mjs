/**
 * Tail latency: one producer and one consumer in the same process; the producer sends one record at a
 * time at a fixed rate with its send time stamped into the value, and the consumer's handler records
 * now − stamp (append-to-handler). The floor does the same with writeSync and a reader woken when the
 * bytes are readable (floor.mjs, floorTail). Both run with the same durability: 'fsync' (kafkalite's
 * default; the floor fsyncs with group commit before its reader may see a record) and 'none' (nothing
 * waits for the device). Reported: the median over repetitions of each run's p50, p99 and p999.
 *
 * Steady state: the first `warmup` records of every run (1 s at the full profile's rate) are sent,
 * delivered and verified like the rest but not sampled, on both sides. A run starts on a fresh
 * directory and the first second of it is dominated by one-off costs (JIT compilation of the whole
 * send-to-handler path competing for the 2 cores, the first fsyncs of newly created files); measured
 * without a warm-up, about two thirds of kafkalite's p99 samples came from its first 1,000 records.
 */
import { join } from 'node:path'
import { fixedRate, floorTail } from './floor.mjs'
import { cleanupScratch, result, unavailable } from './harness.mjs'
import { openWithTopic } from './kafkalite.mjs'
import { KEY_BYTES } from './records.mjs'
import { median, now, percentiles } from './stats.mjs'

export const TAIL_TARGET = { kind: 'ratio', op: '<=', value: 1.5, text: '≤ 1.5 × floor p99' }
const VALUE_BYTES = 100

export async function measureTail(ctx, durability) {
  const { kl, has, scratch, profile } = ctx
  const { rate, count, warmup = 0, reps } = profile.tail
  const label = `tail latency (${rate}/s, durability '${durability}')`
  const names = { p50: `${label} p50`, p99: `${label} p99`, p999: `${label} p999` }
  if (!(has.producer && has.consumer && ctx.adapters?.producer && ctx.adapters?.consumer)) {
    const missing = [!has.producer && 'the Producer (src/producer)', !has.consumer && 'a consumer (src/consumer)'].filter(Boolean).join(' and ')
    return [unavailable(names.p50, missing), unavailable(names.p99, missing, TAIL_TARGET), unavailable(names.p999, missing)]
  }
  const floorRuns = []
  const subjectRuns = []
  const expectedSeqSum = (() => {
    let s = 0
    for (let i = 0; i < count; i++) s = (s + i) | 0
    return s
  })()
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? ['floor', 'kafkalite'] : ['kafkalite', 'floor']
    for (const side of order) {
      const samples = []
      // Records arrive in send order on both sides, so the first `warmup` samples are the first records.
      let arrived = 0
      const sample = (ms) => {
        if (arrived++ >= warmup) samples.push(ms)
      }
      const path = join(scratch, `tail-${side}-${durability}-${r}`)
      const got =
        side === 'floor'
          ? await floorTail(path, { rate, count, valueBytes: VALUE_BYTES, durable: durability === 'fsync', onSample: sample })
          : await kafkaliteTail(ctx, path, { rate, count, durability, onSample: sample })
      cleanupScratch(path)
      if (got.received !== count || got.seqSum !== expectedSeqSum) {
        throw new Error(`${side} tail run received ${got.received} records (seq sum ${got.seqSum}), expected ${count} (${expectedSeqSum})`)
      }
      ;(side === 'floor' ? floorRuns : subjectRuns).push(percentiles(samples))
    }
  }
  const verified = { count, seqSum: expectedSeqSum }
  const pick = (runs, q) => median(runs.map((p) => p[q]))
  return [
    result({ name: names.p50, value: pick(subjectRuns, 'p50'), unit: 'ms', floor: pick(floorRuns, 'p50'), verified }),
    result({ name: names.p99, value: pick(subjectRuns, 'p99'), unit: 'ms', floor: pick(floorRuns, 'p99'), target: TAIL_TARGET, verified }),
    result({ name: names.p999, value: pick(subjectRuns, 'p999'), unit: 'ms', floor: pick(floorRuns, 'p999'), verified }),
  ]
}

/** One kafkalite run: producer (acks 1, lingerMs 0) → log → consumer handler, in this process. */
async function kafkaliteTail(ctx, dir, { rate, count, durability, onSample }) {
  const { kl, adapters } = ctx
  const { db } = await openWithTopic(kl, dir, { durability })
  const producer = adapters.producer(db, { acks: 1, lingerMs: 0 })
  let received = 0
  let seqSum = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  const consumer = await adapters.consumer(db, 'bench', (value) => {
    onSample(now() - value.readDoubleBE(8))
    seqSum = (seqSum + value.readUInt32BE(0)) | 0
    if (++received === count) done()
  })
  const key = Buffer.alloc(KEY_BYTES, 0x6b)
  const sends = []
  fixedRate(rate, count, (seq) => {
    const value = Buffer.alloc(VALUE_BYTES, 0x61)
    value.writeUInt32BE(seq, 0)
    value.writeDoubleBE(now(), 8)
    sends.push(producer.send([{ key, value }]))
  })
  await finished
  await Promise.all(sends)
  await consumer.close()
  await producer.close()
  await db.close()
  return { received, seqSum }
}

/**
 * The floor: the speed limit for any log in Node. The same records as kafkalite gets, framed as
 * `[u32 length][key][value]` (length = key + value bytes) into one Buffer per batch of B records and
 * written with `fs.writeSync` to one file, `fsync` after each batch in the durable mode; scanned with
 * large `fs.readSync` chunks, walking the frames and touching every value.
 *
 * The floor has none of a log's duties (no offsets, no CRC, no index, no recovery), which is the point:
 * kafkalite's numbers are reported as a ratio to it, measured in the same run.
 */
import * as fs from 'node:fs'
import { KEY_BYTES, frameBytes, valueSumAt } from './records.mjs'
import { now } from './stats.mjs'

/** Writes `count` records of `pool` in batches of `batch`; returns { ms, bytes }. */
export function floorAppend(path, pool, count, batch, durable) {
  const fd = fs.openSync(path, 'w')
  const frame = frameBytes(pool.valueBytes)
  let position = 0
  const start = now()
  try {
    for (let i = 0; i < count; ) {
      const n = Math.min(batch, count - i)
      const buf = Buffer.allocUnsafe(n * frame)
      let o = 0
      for (let j = 0; j < n; j++, i++) {
        const { key, value } = pool.record(i)
        buf.writeUInt32BE(KEY_BYTES + value.length, o)
        buf.set(key, o + 4)
        buf.set(value, o + 4 + KEY_BYTES)
        o += 4 + KEY_BYTES + value.length
      }
      fs.writeSync(fd, buf, 0, o, position)
      position += o
      if (durable) fs.fsyncSync(fd)
    }
    return { ms: now() - start, bytes: position }
  } finally {
    fs.closeSync(fd)
  }
}

/** Scans a floor file with `chunkBytes` reads; returns { ms, count, checksum }. */
export function floorScan(path, chunkBytes = 1 << 20) {
  const start = now()
  const fd = fs.openSync(path, 'r')
  let chunk = Buffer.allocUnsafe(chunkBytes)
  let filePos = 0
  let count = 0
  let checksum = 0
  try {
    let carry = 0
    for (;;) {
      const got = fs.readSync(fd, chunk, carry, chunk.length - carry, filePos)
      filePos += got
      const end = carry + got
      let o = 0
      while (o + 4 <= end) {
        const len = chunk.readUInt32BE(o)
        if (o + 4 + len > end) break
        checksum = (checksum + valueSumAt(chunk, o + 4 + KEY_BYTES, o + 4 + len)) | 0
        count++
        o += 4 + len
      }
      if (got === 0) break
      // Keep a partial frame for the next read.
      carry = end - o
      if (carry > 0) chunk.copy(chunk, 0, o, end)
      if (carry === chunk.length) {
        const bigger = Buffer.allocUnsafe(chunk.length * 2)
        chunk.copy(bigger, 0, 0, carry)
        chunk = bigger
      }
    }
    return { ms: now() - start, count, checksum }
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * The floor's own append-to-read latency, in the same process: a fixed-rate writer appends one record
 * per send (its send time stamped into the value) with `writeSync`; in durable mode it fsyncs on the
 * thread pool with group commit (one fsync in flight; writes that land meanwhile ride on the next one);
 * the reader is woken when the bytes are readable (after the write, or after the covering fsync), reads
 * them with `readSync`, and records now − stamp for each frame. This is the best an event-driven log in
 * Node can do, which is what makes it the floor.
 */
export function floorTail(path, { rate, count, valueBytes, durable, onSample }) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(path, 'w+')
    const frame = frameBytes(valueBytes)
    const readBuf = Buffer.allocUnsafe(1 << 20)
    let writePos = 0
    let readablePos = 0
    let readPos = 0
    let syncing = false
    let syncAgain = false
    let received = 0
    let seqSum = 0
    const read = () => {
      while (readPos < readablePos) {
        const n = fs.readSync(fd, readBuf, 0, Math.min(readBuf.length, readablePos - readPos), readPos)
        let o = 0
        while (o + frame <= n) {
          const t = now()
          const v = o + 4 + KEY_BYTES
          onSample(t - readBuf.readDoubleBE(v + 8))
          seqSum = (seqSum + readBuf.readUInt32BE(v)) | 0
          received++
          o += frame
        }
        readPos += o
      }
      if (received === count) finish()
    }
    const sync = () => {
      syncing = true
      const covered = writePos
      fs.fsync(fd, (e) => {
        syncing = false
        if (e) return reject(e)
        readablePos = covered
        read()
        if (syncAgain) {
          syncAgain = false
          sync()
        }
      })
    }
    const key = Buffer.alloc(KEY_BYTES, 0x6b)
    const buf = Buffer.alloc(frame, 0x61)
    const send = (seq) => {
      buf.writeUInt32BE(KEY_BYTES + valueBytes, 0)
      buf.set(key, 4)
      buf.writeUInt32BE(seq, 4 + KEY_BYTES)
      buf.writeDoubleBE(now(), 4 + KEY_BYTES + 8)
      fs.writeSync(fd, buf, 0, frame, writePos)
      writePos += frame
      if (!durable) {
        readablePos = writePos
        queueMicrotask(read)
      } else if (syncing) syncAgain = true
      else sync()
    }
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearInterval(timer)
      fs.closeSync(fd)
      resolve({ received, seqSum })
    }
    const timer = fixedRate(rate, count, send)
  })
}

/**
 * Calls `send(seq)` for seq = 0..count-1 at `rate` per second: a 1 ms interval timer sends whatever is
 * due by the clock, so the rate holds even when a tick is late. Returns the interval handle.
 */
export function fixedRate(rate, count, send) {
  const start = now()
  let sent = 0
  const timer = setInterval(() => {
    const due = Math.min(count, Math.floor(((now() - start) * rate) / 1000) + 1)
    while (sent < due) send(sent++)
    if (sent >= count) clearInterval(timer)
  }, 1)
  return timer
}

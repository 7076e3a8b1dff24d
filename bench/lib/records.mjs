/**
 * The records every measurement uses, on both sides (kafkalite and the floor): 16-byte keys and values
 * of V bytes, generated deterministically, so that a reader can prove it saw exactly what was written.
 *
 * A value's first 4 bytes are its record number (big-endian) and its last byte is a second stamp; the
 * rest is filler. `valueSum` folds those 5 bytes into an int32, and a run's checksum is the int32 sum of
 * `valueSum` over every record it wrote or read. The sum is cheap (it touches each value at both ends,
 * which is what the floor's "touch every value" means) and, together with the record count, catches a
 * missing, duplicated or misread record.
 */
export const KEY_BYTES = 16

/** The checksum contribution of the value bytes `buf[start, end)`. Both sides call this on raw bytes. */
export function valueSumAt(buf, start, end) {
  return (((buf[start] << 24) | (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3]) ^ buf[end - 1]) | 0
}

export function valueSum(value) {
  return valueSumAt(value, 0, value.length)
}

/**
 * A pool of `size` distinct records with values of `valueBytes` bytes. Measurements cycle through the
 * pool (record i is pool[i % size]), which keeps memory flat for logs of millions of records;
 * `expectedChecksum(n)` is the checksum of the first n records of that cycle.
 */
export function makeRecordPool(valueBytes, size, salt = 0) {
  if (valueBytes < 5) throw new Error('values need at least 5 bytes for their stamps')
  const records = new Array(size)
  const sums = new Int32Array(size)
  for (let i = 0; i < size; i++) {
    const key = Buffer.alloc(KEY_BYTES)
    key.write(`k${String(i + salt * size).padStart(KEY_BYTES - 1, '0')}`, 'latin1')
    const value = Buffer.alloc(valueBytes, 0x61 + (i % 26))
    value.writeUInt32BE((i + salt * size) >>> 0, 0)
    value[valueBytes - 1] = (i * 7 + salt) & 0xff
    records[i] = { key, value }
    sums[i] = valueSum(value)
  }
  let cycleSum = 0
  for (let i = 0; i < size; i++) cycleSum = (cycleSum + sums[i]) | 0
  return {
    valueBytes,
    records,
    size,
    record: (i) => records[i % size],
    expectedChecksum(n) {
      const cycles = Math.floor(n / size)
      let sum = Math.imul(cycleSum, cycles) | 0
      for (let i = 0; i < n % size; i++) sum = (sum + sums[i]) | 0
      return sum
    },
  }
}

/** Bytes of one floor frame: [u32 length][key][value]. */
export function frameBytes(valueBytes) {
  return 4 + KEY_BYTES + valueBytes
}

/**
 * Records per batch B for values of V bytes: as many frames as fit the producer's default batchSize
 * (16 KiB), so that the floor's batches and the producer's batches carry the same records.
 */
export function recordsPerBatch(valueBytes, batchBytes = 16384) {
  return Math.max(1, Math.floor(batchBytes / frameBytes(valueBytes)))
}

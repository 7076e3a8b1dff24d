/**
 * The 128-bit key digest of the cleaner's offset map: MurmurHash3_x86_128 (Austin Appleby's public
 * domain algorithm, 32-bit arithmetic, so it runs at full speed in JS with `Math.imul`).
 *
 * Kafka's SkimpyOffsetMap stores an MD5 digest (16 bytes) per key and never the key itself; two keys
 * with the same digest are treated as one key, so a collision would drop the older key's latest record.
 * A 128-bit digest makes that as unlikely as Kafka makes it (for a billion keys, about 1e-21), at a
 * fraction of MD5's cost: hashing every key of every dirty record is the cleaner's hottest loop.
 *
 * Verified against SMHasher's verification value for MurmurHash3_x86_128 (0xB3ECE62A) in the tests.
 */

const C1 = 0x239b961b
const C2 = 0xab0e9789
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93

/**
 * Hashes `data[start, end)` with `seed` into `out[0..3]` (h1..h4 as signed int32, the digest's four
 * little-endian words). Writing into a caller's array keeps the hot loop free of allocation.
 */
export function murmur3x86128(data: Uint8Array, start: number, end: number, seed: number, out: Int32Array): void {
  const length = end - start
  let h1 = seed | 0
  let h2 = seed | 0
  let h3 = seed | 0
  let h4 = seed | 0
  const blocksEnd = start + (length & ~15)
  for (let i = start; i < blocksEnd; i += 16) {
    let k1 = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    let k2 = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)
    let k3 = data[i + 8]! | (data[i + 9]! << 8) | (data[i + 10]! << 16) | (data[i + 11]! << 24)
    let k4 = data[i + 12]! | (data[i + 13]! << 8) | (data[i + 14]! << 16) | (data[i + 15]! << 24)

    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
    h1 = (h1 << 19) | (h1 >>> 13)
    h1 = (h1 + h2) | 0
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

    k2 = Math.imul(k2, C2)
    k2 = (k2 << 16) | (k2 >>> 16)
    h2 ^= Math.imul(k2, C3)
    h2 = (h2 << 17) | (h2 >>> 15)
    h2 = (h2 + h3) | 0
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

    k3 = Math.imul(k3, C3)
    k3 = (k3 << 17) | (k3 >>> 15)
    h3 ^= Math.imul(k3, C4)
    h3 = (h3 << 15) | (h3 >>> 17)
    h3 = (h3 + h4) | 0
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

    k4 = Math.imul(k4, C4)
    k4 = (k4 << 18) | (k4 >>> 14)
    h4 ^= Math.imul(k4, C1)
    h4 = (h4 << 13) | (h4 >>> 19)
    h4 = (h4 + h1) | 0
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
  }

  // The tail: up to 15 bytes, little-endian into the lanes they would occupy in a full block; a lane
  // is mixed only if it received a byte.
  const tail = length & 15
  if (tail > 0) {
    let k1 = 0
    let k2 = 0
    let k3 = 0
    let k4 = 0
    for (let j = 0; j < tail; j++) {
      const byte = data[blocksEnd + j]! << ((j & 3) * 8)
      if (j < 4) k1 ^= byte
      else if (j < 8) k2 ^= byte
      else if (j < 12) k3 ^= byte
      else k4 ^= byte
    }
    if (tail > 12) {
      k4 = Math.imul(k4, C4)
      k4 = (k4 << 18) | (k4 >>> 14)
      h4 ^= Math.imul(k4, C1)
    }
    if (tail > 8) {
      k3 = Math.imul(k3, C3)
      k3 = (k3 << 17) | (k3 >>> 15)
      h3 ^= Math.imul(k3, C4)
    }
    if (tail > 4) {
      k2 = Math.imul(k2, C2)
      k2 = (k2 << 16) | (k2 >>> 16)
      h2 ^= Math.imul(k2, C3)
    }
    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
  }

  h1 ^= length
  h2 ^= length
  h3 ^= length
  h4 ^= length
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix32(h1)
  h2 = fmix32(h2)
  h3 = fmix32(h3)
  h4 = fmix32(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  out[0] = h1
  out[1] = h2
  out[2] = h3
  out[3] = h4
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

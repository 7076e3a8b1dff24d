/**
 * Zigzag varints, as Kafka writes them inside records (kafka-format.md §1.3; Kafka `ByteUtils`).
 *
 *   zigzag(v) = (v << 1) ^ (v >> 31)      varint, int32, at most 5 bytes
 *   zigzag(v) = (v << 1) ^ (v >> 63)      varlong, int64, at most 10 bytes
 *
 * The zigzagged value is then written as unsigned LEB128: 7 bits per byte, low bits first, the high bit
 * set on every byte but the last. So -1 is `01`, 1 is `02`, 64 is `80 01`.
 *
 * Reads advance a caller-owned {@link Cursor} instead of returning a `{ value, pos }` pair, so that the
 * record decoder can read thousands of varints without allocating. A cursor also carries `end`, the
 * first byte the read may not touch (the end of the record or batch, not of the buffer): a varint that
 * runs into it is corrupt.
 *
 * Varlongs are JS numbers on the hot path. Numbers are exact only up to 2^53 - 1, so the number variants
 * take a fast path for |v| < 2^31 and split arithmetic above it, and a read whose value is outside the safe
 * integer range throws instead of rounding. The `Big` variants cover the whole int64 range exactly.
 */
import { CorruptRecordError } from '../errors/index'

export const MAX_VARINT_BYTES = 5
export const MAX_VARLONG_BYTES = 10

/** A read position in a buffer; reads advance `pos` and never read at or past `end`. */
export interface Cursor {
  pos: number
  end: number
}

const TWO_POW_28 = 2 ** 28
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

// ---------------------------------------------------------------------------------------------------------
// Sizes

/** Bytes taken by `value` (an int32) as a zigzag varint. */
export function sizeOfVarint(value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0
  let bytes = 1
  while (zz >= 0x80) {
    zz >>>= 7
    bytes++
  }
  return bytes
}

/** Bytes taken by `value` (a safe integer) as a zigzag varlong. */
export function sizeOfVarlong(value: number): number {
  if (value >= INT32_MIN && value <= INT32_MAX) return sizeOfVarint(value)
  // zigzag(v) = 2m + s with m = |v| or |v| - 1; the first byte holds s and 6 bits of m, later bytes 7 each.
  let m = value >= 0 ? value : -value - 1
  m = Math.floor(m / 64)
  let bytes = 1
  while (m > 0) {
    m = Math.floor(m / 128)
    bytes++
  }
  return bytes
}

// ---------------------------------------------------------------------------------------------------------
// Writes. The caller sizes the buffer with sizeOf*; each write returns the position after the varint.

/** Writes `value` (an int32) as a zigzag varint at `pos`. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0
  while (zz >= 0x80) {
    buf[pos++] = (zz & 0x7f) | 0x80
    zz >>>= 7
  }
  buf[pos++] = zz
  return pos
}

/** Writes `value` (a safe integer; a timestamp delta, typically) as a zigzag varlong at `pos`. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= INT32_MIN && value <= INT32_MAX) return writeVarint(buf, pos, value)
  // Above 2^31 the shifts of the int32 path no longer apply, and 2|v| + 1 may not be representable
  // (2^53 < zz < 2^54), so zigzag is applied piecewise: zz = 2m + s, where s is the sign bit.
  const negative = value < 0
  let m = negative ? -value - 1 : value
  const low6 = m % 64
  m = Math.floor(m / 64)
  buf[pos++] = ((low6 << 1) | (negative ? 1 : 0)) | (m > 0 ? 0x80 : 0)
  while (m > 0) {
    const low7 = m % 128
    m = Math.floor(m / 128)
    buf[pos++] = low7 | (m > 0 ? 0x80 : 0)
  }
  return pos
}

/** Writes any int64 as a zigzag varlong at `pos`. */
export function writeVarlongBig(buf: Uint8Array, pos: number, value: bigint): number {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n))
  while (zz >= 0x80n) {
    buf[pos++] = Number(zz & 0x7fn) | 0x80
    zz >>= 7n
  }
  buf[pos++] = Number(zz)
  return pos
}

// ---------------------------------------------------------------------------------------------------------
// Reads. Like Kafka's `ByteUtils.readVarint`, a varint longer than 5 bytes (varlong: 10) is corrupt, and
// the bits of the last byte that do not fit the type are dropped.

function pastEnd(what: string, cursor: Cursor): CorruptRecordError {
  return new CorruptRecordError(`${what} runs past the end of its record or batch (byte ${cursor.end})`, {
    position: cursor.pos,
  })
}

/** Reads a zigzag varint (int32) at `cursor.pos` and advances the cursor past it. */
export function readVarint(buf: Uint8Array, cursor: Cursor): number {
  let pos = cursor.pos
  if (pos >= cursor.end) throw pastEnd('varint', cursor)
  let b = buf[pos++]!
  if (b < 0x80) {
    cursor.pos = pos
    return (b >>> 1) ^ -(b & 1)
  }
  let value = b & 0x7f
  let shift = 7
  for (;;) {
    if (pos >= cursor.end) throw pastEnd('varint', cursor)
    b = buf[pos++]!
    if (b < 0x80) break
    value |= (b & 0x7f) << shift
    shift += 7
    if (shift > 28) throw new CorruptRecordError('varint is longer than 5 bytes', { position: cursor.pos })
  }
  value |= b << shift
  cursor.pos = pos
  return (value >>> 1) ^ -(value & 1)
}

/**
 * Reads a zigzag varlong at `cursor.pos` as a number and advances the cursor. Throws CorruptRecordError if
 * the value is outside the safe integer range (use {@link readVarlongBig} to read such values exactly).
 */
export function readVarlong(buf: Uint8Array, cursor: Cursor): number {
  let pos = cursor.pos
  // Up to 4 bytes (28 bits of zigzag) fit int32 arithmetic: the common case for timestamp deltas.
  let low = 0
  let shift = 0
  let b = 0
  do {
    if (pos >= cursor.end) throw pastEnd('varlong', cursor)
    b = buf[pos++]!
    low |= (b & 0x7f) << shift
    shift += 7
  } while (b >= 0x80 && shift < 28)
  if (b < 0x80) {
    cursor.pos = pos
    return (low >>> 1) ^ -(low & 1)
  }
  // Longer: zz = high * 2^28 + low. `high` holds at most 36 bits, so it is an exact double.
  let high = 0
  let scale = 1
  for (;;) {
    if (pos >= cursor.end) throw pastEnd('varlong', cursor)
    b = buf[pos++]!
    high += (b & 0x7f) * scale
    if (b < 0x80) break
    scale *= 128
    if (scale > 2 ** 35) throw new CorruptRecordError('varlong is longer than 10 bytes', { position: cursor.pos })
  }
  // Bits of the tenth byte beyond bit 63 are dropped, as in Java's `b << 63`.
  if (high >= 2 ** 36) high %= 2 ** 36
  // v = zz >>> 1 (sign 0) or -(zz >>> 1) - 1 (sign 1), where zz >>> 1 = high * 2^27 + (low >>> 1).
  const half = high * (TWO_POW_28 / 2) + (low >>> 1)
  const value = low & 1 ? -half - 1 : half
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError('varlong is outside the safe integer range (|v| > 2^53 - 1)', { position: cursor.pos })
  }
  cursor.pos = pos
  return value
}

/** Reads a zigzag varlong at `cursor.pos` exactly, over the whole int64 range, and advances the cursor. */
export function readVarlongBig(buf: Uint8Array, cursor: Cursor): bigint {
  let pos = cursor.pos
  let zz = 0n
  let shift = 0n
  for (;;) {
    if (pos >= cursor.end) throw pastEnd('varlong', cursor)
    const b = buf[pos++]!
    zz |= BigInt(b & 0x7f) << shift
    if (b < 0x80) break
    shift += 7n
    if (shift > 63n) throw new CorruptRecordError('varlong is longer than 10 bytes', { position: cursor.pos })
  }
  zz = BigInt.asUintN(64, zz)
  cursor.pos = pos
  return BigInt.asIntN(64, (zz >> 1n) ^ -(zz & 1n))
}

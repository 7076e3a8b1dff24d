/**
 * snappy (codec id 2) in xerial framing, as Kafka writes it through snappy-java's SnappyOutputStream
 * (kafka-format.md §1.6, pitfall 8):
 *
 *   offset  size  field
 *   0       8     magic `82 53 4E 41 50 50 59 00` ("\x82SNAPPY\0")
 *   8       4     int32 BE version = 1
 *   12      4     int32 BE minCompatibleVersion = 1
 *   16      …     blocks: [int32 BE compressedLength][raw snappy block], one per ≤ 32 KiB of input
 *
 * A raw snappy block starts with its uncompressed length as an unsigned LEB128 varint, which is what makes
 * decompression boundable: each block's declared length is checked against the limit before it is
 * inflated, so no more than the limit is ever allocated.
 *
 * Reading follows snappy-java's SnappyInputStream: without the magic the whole input is one raw snappy
 * block (Kafka can read raw snappy; kafkajs-snappy writes it), a header may reappear between blocks
 * (concatenated streams), and an empty input is an empty stream.
 */
import snappy from '@napi-rs/snappy'
import { CorruptRecordError, KafkaliteError, type ErrorContext } from '../../errors/index'

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_VERSION_OFFSET = XERIAL_MAGIC.length
const XERIAL_MIN_COMPAT_VERSION_OFFSET = XERIAL_VERSION_OFFSET + 4
const XERIAL_HEADER_BYTES = XERIAL_MIN_COMPAT_VERSION_OFFSET + 4
const XERIAL_VERSION = 1
const XERIAL_MIN_COMPAT_VERSION = 1
/** snappy-java's `DEFAULT_BLOCK_SIZE`: input bytes per block. */
const XERIAL_BLOCK_INPUT_BYTES = 32 * 1024
const BLOCK_LENGTH_BYTES = 4

const XERIAL_HEADER = (() => {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES)
  XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(XERIAL_VERSION, XERIAL_VERSION_OFFSET)
  header.writeInt32BE(XERIAL_MIN_COMPAT_VERSION, XERIAL_MIN_COMPAT_VERSION_OFFSET)
  return header
})()

export function compressSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER]
  let total = XERIAL_HEADER_BYTES
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_INPUT_BYTES) {
    const block = snappy.compressSync(data.subarray(start, start + XERIAL_BLOCK_INPUT_BYTES))
    const length = Buffer.allocUnsafe(BLOCK_LENGTH_BYTES)
    length.writeInt32BE(block.length, 0)
    parts.push(length, block)
    total += BLOCK_LENGTH_BYTES + block.length
  }
  return Buffer.concat(parts, total)
}

export function decompressSnappy(data: Buffer, maxBytes: number, context: ErrorContext): Buffer {
  if (data.length === 0) return Buffer.alloc(0)
  if (!hasXerialMagic(data, 0)) return inflateBlock(data, maxBytes, context)

  const parts: Buffer[] = []
  let total = 0
  let pos = 0
  while (pos < data.length) {
    if (hasXerialMagic(data, pos)) {
      pos = readXerialHeader(data, pos, context)
      continue
    }
    if (pos + BLOCK_LENGTH_BYTES > data.length) throw malformed(`truncated block length at byte ${pos}`, context)
    const length = data.readInt32BE(pos)
    pos += BLOCK_LENGTH_BYTES
    if (length < 0 || pos + length > data.length) {
      throw malformed(`block of ${length} bytes at byte ${pos - BLOCK_LENGTH_BYTES} overruns the input`, context)
    }
    const block = inflateBlock(data.subarray(pos, pos + length), maxBytes - total, context, maxBytes)
    pos += length
    total += block.length
    parts.push(block)
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total)
}

function hasXerialMagic(data: Buffer, pos: number): boolean {
  if (pos + XERIAL_MAGIC.length > data.length) return false
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[pos + i] !== XERIAL_MAGIC[i]) return false
  return true
}

/** Checks the xerial header at `pos` (snappy-java requires version ≥ 1) and returns the position after it. */
function readXerialHeader(data: Buffer, pos: number, context: ErrorContext): number {
  if (pos + XERIAL_HEADER_BYTES > data.length) throw malformed(`truncated xerial header at byte ${pos}`, context)
  const version = data.readInt32BE(pos + XERIAL_VERSION_OFFSET)
  if (version < XERIAL_MIN_COMPAT_VERSION) throw malformed(`unsupported xerial version ${version}`, context)
  return pos + XERIAL_HEADER_BYTES
}

/**
 * Inflates one raw snappy block after checking its declared length against `remaining`, the bytes still
 * allowed under the limit `maxBytes`.
 */
function inflateBlock(block: Buffer, remaining: number, context: ErrorContext, maxBytes = remaining): Buffer {
  const declared = declaredLength(block, context)
  if (declared > remaining) {
    throw new KafkaliteError(
      'ERR_DECOMPRESSION_LIMIT',
      `snappy records inflate past the limit of ${maxBytes} bytes`,
      { ...context, codec: 'snappy', maxBytes },
    )
  }
  try {
    return snappy.uncompressSync(block)
  } catch (e) {
    throw malformed((e as Error).message, context, e)
  }
}

/** The uncompressed length a raw snappy block declares: an unsigned LEB128 varint of at most 32 bits. */
function declaredLength(block: Buffer, context: ErrorContext): number {
  let value = 0
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) break
    const b = block[i]!
    value += (b & 0x7f) * 2 ** (7 * i)
    if (b < 0x80) return value
  }
  throw malformed('bad uncompressed-length preamble in a snappy block', context)
}

function malformed(detail: string, context: ErrorContext, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Malformed snappy data: ${detail}`, { ...context, codec: 'snappy' }, cause)
}

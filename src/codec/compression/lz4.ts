/**
 * lz4 (codec id 3): the LZ4 frame format, written exactly as Kafka's `Lz4BlockOutputStream` writes it
 * (kafka-format.md §1.6, pitfall 9). All integers inside the frame are little-endian.
 *
 *   offset  size  field
 *   0       4     magic 0x184D2204 (`04 22 4D 18`)
 *   4       1     FLG: version 01 (bits 7-6), block independence (5), block checksum (4),
 *                 content size (3), content checksum (2), reserved (1), dictionary id (0)
 *   5       1     BD: block max size code (bits 6-4): 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB
 *   6       0|8   content size, if FLG bit 3
 *   …       1     HC = (xxh32(FLG … end of descriptor, seed 0) >> 8) & 0xFF
 *   then blocks:  uint32 size (high bit set = stored uncompressed), data, [uint32 xxh32 of data if FLG bit 4]
 *   end mark:     uint32 0, then [uint32 content checksum if FLG bit 2]
 *
 * Kafka writes FLG 0x60 (independent blocks, nothing else), BD 0x40 (64 KiB) and HC 0x82, so its frames
 * start `04 22 4d 18 60 40 82`; a block that does not shrink is stored. We write the same bytes, framing
 * lz4-napi's raw block compressor ourselves (lz4-napi's own frame writer picks larger blocks for large
 * inputs).
 *
 * The reader accepts what Kafka's `Lz4BlockInputStream` accepts: version 01, reserved bits and dictionary
 * id 0, block size codes 4-7, a content size (skipped), block checksums (verified), a content checksum
 * (read, not verified, as Kafka does), a correct HC; it rejects dependent blocks ("Dependent block stream
 * is unsupported"). Bytes after the frame are ignored, as Kafka does. Because every block is independent
 * and at most the declared block size, decompression is bounded: each block is decoded on its own and the
 * total is checked after each one, so no more than one block (64 KiB in Kafka's frames, 4 MiB at most)
 * past the limit is ever materialised.
 */
import lz4 from 'lz4-napi'
import { CorruptRecordError, KafkaliteError, type ErrorContext } from '../../errors/index'

const MAGIC = 0x184d2204
const FLG_OFFSET = 4
const BD_OFFSET = FLG_OFFSET + 1
const CONTENT_SIZE_OFFSET = BD_OFFSET + 1
const CONTENT_SIZE_BYTES = 8

const FLG_VERSION_MASK = 0xc0
const FLG_VERSION = 0x40
const FLG_BLOCK_INDEPENDENCE = 0x20
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_CONTENT_CHECKSUM = 0x04
const FLG_RESERVED = 0x03
const BD_RESERVED = 0x8f
const BD_SIZE_SHIFT = 4
const BLOCK_SIZE_CODE_64KB = 4

const BLOCK_UNCOMPRESSED_FLAG = 0x80000000
const BLOCK_SIZE_MASK = 0x7fffffff
const INT_BYTES = 4
/** Kafka's output block size, `BLOCKSIZE_64KB`. */
const BLOCK_INPUT_BYTES = 64 * 1024

/** xxHash32 primes (used by the header, block and content checksums). */
const PRIME32_1 = 0x9e3779b1
const PRIME32_2 = 0x85ebca77
const PRIME32_3 = 0xc2b2ae3d
const PRIME32_4 = 0x27d4eb2f
const PRIME32_5 = 0x165667b1

function blockMaxBytes(code: number): number {
  return 1 << (8 + 2 * code)
}

/** The 7-byte frame header Kafka writes: magic, FLG 0x60, BD 0x40, HC 0x82. */
export const LZ4_KAFKA_FRAME_HEADER: Buffer = (() => {
  const header = Buffer.alloc(CONTENT_SIZE_OFFSET + 1)
  header.writeUInt32LE(MAGIC, 0)
  header[FLG_OFFSET] = FLG_VERSION | FLG_BLOCK_INDEPENDENCE
  header[BD_OFFSET] = BLOCK_SIZE_CODE_64KB << BD_SIZE_SHIFT
  header[CONTENT_SIZE_OFFSET] = headerChecksum(header, FLG_OFFSET, CONTENT_SIZE_OFFSET)
  return header
})()
const END_MARK = Buffer.alloc(INT_BYTES)

export function compressLz4(data: Buffer): Buffer {
  const parts: Buffer[] = [LZ4_KAFKA_FRAME_HEADER]
  let total = LZ4_KAFKA_FRAME_HEADER.length + END_MARK.length
  for (let start = 0; start < data.length; start += BLOCK_INPUT_BYTES) {
    const input = data.subarray(start, start + BLOCK_INPUT_BYTES)
    // lz4-napi's block format prefixes the uncompressed size (uint32 LE), which the frame does not carry.
    const compressed = lz4.compressSync(input).subarray(INT_BYTES)
    const size = Buffer.allocUnsafe(INT_BYTES)
    if (compressed.length >= input.length) {
      size.writeUInt32LE((input.length | BLOCK_UNCOMPRESSED_FLAG) >>> 0, 0)
      parts.push(size, input)
    } else {
      size.writeUInt32LE(compressed.length, 0)
      parts.push(size, compressed)
    }
    total += INT_BYTES + Math.min(compressed.length, input.length)
  }
  parts.push(END_MARK)
  return Buffer.concat(parts, total)
}

export function decompressLz4(data: Buffer, maxBytes: number, context: ErrorContext): Buffer {
  const frame = readFrameDescriptor(data, context)
  const parts: Buffer[] = []
  let total = 0
  let pos = frame.blocksOffset
  for (;;) {
    if (pos + INT_BYTES > data.length) throw malformed(`missing end mark at byte ${pos}`, context)
    const sizeField = data.readUInt32LE(pos)
    pos += INT_BYTES
    if (sizeField === 0) break
    const size = sizeField & BLOCK_SIZE_MASK
    const stored = sizeField !== size
    if (size > frame.blockMaxBytes) {
      throw malformed(`block of ${size} bytes exceeds the frame's maximum of ${frame.blockMaxBytes}`, context)
    }
    const end = pos + size
    if (end + (frame.blockChecksum ? INT_BYTES : 0) > data.length) {
      throw malformed(`block at byte ${pos - INT_BYTES} overruns the input`, context)
    }
    if (frame.blockChecksum && xxh32(data, pos, end) !== data.readUInt32LE(end)) {
      throw malformed(`block checksum mismatch at byte ${pos - INT_BYTES}`, context)
    }
    if (stored && total + size > maxBytes) throw limitExceeded(maxBytes, context)
    const block = stored ? data.subarray(pos, end) : inflateBlock(data, pos, end, frame.blockMaxBytes, context)
    total += block.length
    if (total > maxBytes) throw limitExceeded(maxBytes, context)
    parts.push(block)
    pos = end + (frame.blockChecksum ? INT_BYTES : 0)
  }
  // Kafka reads the content checksum without verifying it; so do we.
  if (frame.contentChecksum && pos + INT_BYTES > data.length) throw malformed('missing content checksum', context)
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total)
}

interface FrameDescriptor {
  blockMaxBytes: number
  blockChecksum: boolean
  contentChecksum: boolean
  blocksOffset: number
}

function readFrameDescriptor(data: Buffer, context: ErrorContext): FrameDescriptor {
  if (data.length < CONTENT_SIZE_OFFSET + 1) throw malformed('truncated frame header', context)
  if (data.readUInt32LE(0) !== MAGIC) throw malformed('not an LZ4 frame (bad magic)', context)
  const flg = data[FLG_OFFSET]!
  const bd = data[BD_OFFSET]!
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION) throw malformed(`unsupported frame version in FLG 0x${hex(flg)}`, context)
  if ((flg & FLG_RESERVED) !== 0) throw malformed(`reserved bits or dictionary id set in FLG 0x${hex(flg)}`, context)
  if ((flg & FLG_BLOCK_INDEPENDENCE) === 0) {
    throw malformed('dependent block stream is unsupported (Kafka requires independent blocks)', context)
  }
  const sizeCode = (bd >> BD_SIZE_SHIFT) & 0x07
  if ((bd & BD_RESERVED) !== 0 || sizeCode < BLOCK_SIZE_CODE_64KB) {
    throw malformed(`unsupported block descriptor BD 0x${hex(bd)}`, context)
  }
  const hcOffset = CONTENT_SIZE_OFFSET + (flg & FLG_CONTENT_SIZE ? CONTENT_SIZE_BYTES : 0)
  if (data.length < hcOffset + 1) throw malformed('truncated frame header', context)
  if (data[hcOffset] !== headerChecksum(data, FLG_OFFSET, hcOffset)) throw malformed('frame header checksum mismatch', context)
  return {
    blockMaxBytes: blockMaxBytes(sizeCode),
    blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
    contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
    blocksOffset: hcOffset + 1,
  }
}

/**
 * Decodes one independent block with lz4-napi's raw block decoder. That decoder takes the output capacity
 * as a uint32 LE prefix and fails if the block would inflate past it, so the block's bytes are copied
 * behind a prefix holding the frame's block maximum.
 */
function inflateBlock(data: Buffer, start: number, end: number, capacity: number, context: ErrorContext): Buffer {
  const prefixed = Buffer.allocUnsafe(INT_BYTES + end - start)
  prefixed.writeUInt32LE(capacity, 0)
  data.copy(prefixed, INT_BYTES, start, end)
  try {
    return lz4.uncompressSync(prefixed)
  } catch (e) {
    throw malformed(`bad block at byte ${start - INT_BYTES}: ${(e as Error).message}`, context, e)
  }
}

function headerChecksum(buf: Uint8Array, start: number, end: number): number {
  return (xxh32(buf, start, end) >>> 8) & 0xff
}

/** xxHash32 with seed 0 over buf[start, end), the checksum of LZ4 frames. */
export function xxh32(buf: Uint8Array, start: number, end: number): number {
  let pos = start
  let h: number
  if (end - start >= 16) {
    let v1 = (PRIME32_1 + PRIME32_2) | 0
    let v2 = PRIME32_2
    let v3 = 0
    let v4 = -PRIME32_1 | 0
    for (const limit = end - 16; pos <= limit; pos += 16) {
      v1 = xxhRound(v1, readU32LE(buf, pos))
      v2 = xxhRound(v2, readU32LE(buf, pos + 4))
      v3 = xxhRound(v3, readU32LE(buf, pos + 8))
      v4 = xxhRound(v4, readU32LE(buf, pos + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = PRIME32_5
  }
  h = (h + (end - start)) | 0
  for (; pos + 4 <= end; pos += 4) h = Math.imul(rotl((h + Math.imul(readU32LE(buf, pos), PRIME32_3)) | 0, 17), PRIME32_4)
  for (; pos < end; pos++) h = Math.imul(rotl((h + Math.imul(buf[pos]!, PRIME32_5)) | 0, 11), PRIME32_1)
  h ^= h >>> 15
  h = Math.imul(h, PRIME32_2)
  h ^= h >>> 13
  h = Math.imul(h, PRIME32_3)
  h ^= h >>> 16
  return h >>> 0
}

function xxhRound(acc: number, input: number): number {
  return Math.imul(rotl((acc + Math.imul(input, PRIME32_2)) | 0, 13), PRIME32_1)
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r))
}

function readU32LE(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}

function limitExceeded(maxBytes: number, context: ErrorContext): KafkaliteError {
  return new KafkaliteError('ERR_DECOMPRESSION_LIMIT', `lz4 records inflate past the limit of ${maxBytes} bytes`, {
    ...context,
    codec: 'lz4',
    maxBytes,
  })
}

function malformed(detail: string, context: ErrorContext, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Malformed lz4 data: ${detail}`, { ...context, codec: 'lz4' }, cause)
}

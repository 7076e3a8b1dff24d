/**
 * zstd (codec id 4): plain zstd frames (`28 B5 2F FD …`). Kafka writes them with zstd-jni's streaming
 * writer at level 3, which leaves out the frame content size; a reader must not rely on it.
 *
 * Node 20 has no zstd in zlib, so both directions use libzstd compiled to WebAssembly
 * (`@bokuweb/zstd-wasm`). Instantiating WebAssembly is asynchronous, hence {@link loadZstd}, which the
 * engine awaits once at open (through `loadCodecs`); until then zstd calls fail with
 * ERR_UNSUPPORTED_COMPRESSION. There is no top-level await, so the module loads the same way from the ESM
 * and the CJS build.
 *
 * Bounding decompression. The wasm build exposes only one-shot `ZSTD_decompress`, which needs the output
 * capacity up front. So before inflating, each frame is walked (header, then every 3-byte block header)
 * and its output is bounded from above: raw and RLE blocks declare their exact size, a compressed block
 * yields at most min(window size, 128 KiB). A frame that declares its content size gets exactly that
 * capacity (more than the remaining limit: ERR_DECOMPRESSION_LIMIT before inflating). Otherwise the capacity
 * is min(bound, remaining limit); if the bound exceeds the limit and libzstd reports "destination buffer
 * too small", the data inflates past the limit. At most the limit is ever allocated.
 */
import * as zstdWasm from '@bokuweb/zstd-wasm'
import { CorruptRecordError, KafkaliteError, type ErrorContext } from '../../errors/index'

/** Kafka's default `compression.zstd.level`. */
const ZSTD_LEVEL = 3

const FRAME_MAGIC = 0xfd2fb528
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const MAGIC_BYTES = 4
const SKIPPABLE_HEADER_BYTES = 8
const BLOCK_HEADER_BYTES = 3
const CHECKSUM_BYTES = 4
const BLOCK_MAX_BYTES = 128 * 1024
const BLOCK_TYPE_RAW = 0
const BLOCK_TYPE_RLE = 1
const BLOCK_TYPE_COMPRESSED = 2
/** `ZSTD_error_dstSize_tooSmall` in zstd_errors.h; libzstd returns errors as (size_t)-code. */
const ZSTD_ERROR_DST_SIZE_TOO_SMALL = 70

let loading: Promise<void> | undefined
let loaded = false

/** Instantiates the zstd WebAssembly module. Idempotent; a failed load can be retried. */
export function loadZstd(): Promise<void> {
  loading ??= zstdWasm.init().then(
    () => {
      loaded = true
    },
    (e: unknown) => {
      loading = undefined
      throw new KafkaliteError('ERR_UNSUPPORTED_COMPRESSION', 'Failed to load the zstd WebAssembly module', { codec: 'zstd' }, e)
    },
  )
  return loading
}

function ensureLoaded(context: ErrorContext): void {
  if (!loaded) {
    throw new KafkaliteError('ERR_UNSUPPORTED_COMPRESSION', 'zstd is not loaded yet: call loadCodecs() first', {
      ...context,
      codec: 'zstd',
    })
  }
}

export function compressZstd(data: Buffer): Buffer {
  ensureLoaded({})
  const out = zstdWasm.compress(data, ZSTD_LEVEL)
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}

export function decompressZstd(data: Buffer, maxBytes: number, context: ErrorContext): Buffer {
  ensureLoaded(context)
  const parts: Buffer[] = []
  let total = 0
  let pos = 0
  while (pos < data.length) {
    const frame = walkFrame(data, pos, context)
    if (frame.skippable) {
      pos = frame.end
      continue
    }
    const remaining = maxBytes - total
    if (frame.contentSize > remaining) throw limitExceeded(maxBytes, context)
    const capacity = frame.contentSize >= 0 ? frame.contentSize : Math.min(frame.bound, remaining)
    // "Destination too small" means "past the limit" only when the limit, not the bound, set the capacity.
    const limitSetCapacity = frame.contentSize < 0 && frame.bound > remaining
    const out = inflateFrame(data.subarray(pos, frame.end), capacity, limitSetCapacity, maxBytes, context)
    total += out.length
    if (total > maxBytes) throw limitExceeded(maxBytes, context)
    parts.push(out)
    pos = frame.end
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total)
}

function inflateFrame(
  frame: Buffer,
  capacity: number,
  limitSetCapacity: boolean,
  maxBytes: number,
  context: ErrorContext,
): Buffer {
  let out: Uint8Array
  try {
    // The wrapper uses the frame's content size when there is one, `defaultHeapSize` otherwise.
    out = zstdWasm.decompress(frame, { defaultHeapSize: Math.max(1, capacity) })
  } catch (e) {
    // The wrapper reports libzstd's error as "… with code -70"; the message format is pinned by the
    // dependency's exact version (^0.0.27 admits no other) and by the limit tests.
    const code = /code (-?\d+)/.exec((e as Error).message)?.[1]
    if (limitSetCapacity && code !== undefined && Math.abs(Number(code)) === ZSTD_ERROR_DST_SIZE_TOO_SMALL) {
      throw limitExceeded(maxBytes, context)
    }
    throw malformed(`libzstd rejected a frame (${(e as Error).message})`, context, e)
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}

interface FrameExtent {
  skippable: boolean
  /** Position after the frame. */
  end: number
  /** The declared content size, or -1 if the frame does not declare it. */
  contentSize: number
  /** An upper bound on the frame's decompressed size, from its block headers. */
  bound: number
}

/** Walks one frame at `pos` without inflating it (RFC 8878 §3.1). */
function walkFrame(data: Buffer, pos: number, context: ErrorContext): FrameExtent {
  if (pos + MAGIC_BYTES > data.length) throw malformed(`truncated frame at byte ${pos}`, context)
  const magic = data.readUInt32LE(pos)
  if (((magic & SKIPPABLE_MAGIC_MASK) >>> 0) === SKIPPABLE_MAGIC) {
    if (pos + SKIPPABLE_HEADER_BYTES > data.length) throw malformed(`truncated skippable frame at byte ${pos}`, context)
    const end = pos + SKIPPABLE_HEADER_BYTES + data.readUInt32LE(pos + MAGIC_BYTES)
    if (end > data.length) throw malformed(`skippable frame at byte ${pos} overruns the input`, context)
    return { skippable: true, end, contentSize: 0, bound: 0 }
  }
  if (magic !== FRAME_MAGIC) throw malformed(`not a zstd frame at byte ${pos} (bad magic)`, context)

  let p = pos + MAGIC_BYTES
  if (p >= data.length) throw malformed('truncated frame header', context)
  const descriptor = data[p++]!
  const contentSizeFlag = descriptor >> 6
  const singleSegment = (descriptor & 0x20) !== 0
  const hasChecksum = (descriptor & 0x04) !== 0
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03]!
  if ((descriptor & 0x08) !== 0) throw malformed('reserved bit set in the frame header', context)
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!
  const headerEnd = p + (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes
  if (headerEnd > data.length) throw malformed('truncated frame header', context)

  let windowSize = Infinity
  if (!singleSegment) {
    const windowDescriptor = data[p++]!
    const windowBase = 2 ** (10 + (windowDescriptor >> 3))
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 0x07)
  }
  p += dictionaryIdBytes
  let contentSize = -1
  if (contentSizeBytes === 1) contentSize = data[p]!
  else if (contentSizeBytes === 2) contentSize = data.readUInt16LE(p) + 256
  else if (contentSizeBytes === 4) contentSize = data.readUInt32LE(p)
  else if (contentSizeBytes === 8) contentSize = data.readUInt32LE(p + 4) * 2 ** 32 + data.readUInt32LE(p)
  if (singleSegment) windowSize = contentSize
  const blockMax = Math.min(windowSize, BLOCK_MAX_BYTES)

  p = headerEnd
  let bound = 0
  for (;;) {
    if (p + BLOCK_HEADER_BYTES > data.length) throw malformed(`truncated block header at byte ${p}`, context)
    const header = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16)
    p += BLOCK_HEADER_BYTES
    const last = (header & 1) !== 0
    const type = (header >> 1) & 0x03
    const size = header >>> 3
    if (type === BLOCK_TYPE_RAW) {
      p += size
      bound += size
    } else if (type === BLOCK_TYPE_RLE) {
      p += 1
      bound += size
    } else if (type === BLOCK_TYPE_COMPRESSED) {
      p += size
      bound += blockMax
    } else {
      throw malformed(`reserved block type at byte ${p - BLOCK_HEADER_BYTES}`, context)
    }
    if (p > data.length) throw malformed('block overruns the input', context)
    if (last) break
  }
  if (hasChecksum) p += CHECKSUM_BYTES
  if (p > data.length) throw malformed('truncated frame checksum', context)
  return { skippable: false, end: p, contentSize, bound }
}

function limitExceeded(maxBytes: number, context: ErrorContext): KafkaliteError {
  return new KafkaliteError('ERR_DECOMPRESSION_LIMIT', `zstd records inflate past the limit of ${maxBytes} bytes`, {
    ...context,
    codec: 'zstd',
    maxBytes,
  })
}

function malformed(detail: string, context: ErrorContext, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`Malformed zstd data: ${detail}`, { ...context, codec: 'zstd' }, cause)
}

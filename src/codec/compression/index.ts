/**
 * The record-batch compression codecs, by the id Kafka stores in attribute bits 0-2
 * (kafka-format.md §1.2, §1.6). Only the records section of a batch is compressed; the 61-byte header,
 * including the record count, never is, and the CRC covers the compressed bytes as stored.
 *
 * Everything here is synchronous. zstd runs on WebAssembly, whose instantiation is asynchronous, so
 * {@link loadCodecs} must have resolved before zstd is used; the engine awaits it at open.
 *
 * Decompression is always bounded by `maxBytes`: output past it throws ERR_DECOMPRESSION_LIMIT (naming
 * the codec and the limit) without inflating much more than the limit, so a small batch cannot expand
 * into an out-of-memory crash. Malformed compressed data throws CorruptRecordError.
 */
import { KafkaliteError, type ErrorContext } from '../../errors/index'
import { compressGzip, decompressGzip } from './gzip'
import { compressLz4, decompressLz4 } from './lz4'
import { compressSnappy, decompressSnappy } from './snappy'
import { compressZstd, decompressZstd, loadZstd } from './zstd'

export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** The codecs, indexed by their attribute id (`CompressionType.id` in Kafka). */
export const COMPRESSION_CODECS: readonly CompressionCodec[] = Object.freeze(['none', 'gzip', 'snappy', 'lz4', 'zstd'])

export function isCompressionCodec(value: unknown): value is CompressionCodec {
  return typeof value === 'string' && (COMPRESSION_CODECS as readonly string[]).includes(value)
}

export function compressionCodecId(codec: CompressionCodec): number {
  const id = COMPRESSION_CODECS.indexOf(codec)
  if (id < 0) throw unsupported(`Unknown compression codec ${JSON.stringify(codec)}`, {})
  return id
}

/** The codec with attribute id `id`, or undefined for ids 5-7, which Kafka does not define. */
export function compressionCodecFromId(id: number): CompressionCodec | undefined {
  return COMPRESSION_CODECS[id]
}

/** Loads the codecs that need asynchronous set-up (zstd's WebAssembly). Idempotent. */
export async function loadCodecs(): Promise<void> {
  await loadZstd()
}

/** Compresses a records section with Kafka's framing for `codec`; 'none' returns `data` itself. */
export function compress(codec: CompressionCodec, data: Buffer): Buffer {
  switch (codec) {
    case 'none':
      return data
    case 'gzip':
      return compressGzip(data)
    case 'snappy':
      return compressSnappy(data)
    case 'lz4':
      return compressLz4(data)
    case 'zstd':
      return compressZstd(data)
    default:
      throw unsupported(`Unknown compression codec ${JSON.stringify(codec)}`, {})
  }
}

/**
 * Decompresses a records section. The result may be `data` itself ('none') or share memory with it
 * (an lz4 frame of one stored block); callers must not assume a fresh buffer.
 */
export function decompress(codec: CompressionCodec, data: Buffer, maxBytes: number, context: ErrorContext = {}): Buffer {
  switch (codec) {
    case 'none':
      if (data.length > maxBytes) {
        throw new KafkaliteError('ERR_DECOMPRESSION_LIMIT', `Records of ${data.length} bytes exceed the limit of ${maxBytes} bytes`, {
          ...context,
          codec,
          maxBytes,
        })
      }
      return data
    case 'gzip':
      return decompressGzip(data, maxBytes, context)
    case 'snappy':
      return decompressSnappy(data, maxBytes, context)
    case 'lz4':
      return decompressLz4(data, maxBytes, context)
    case 'zstd':
      return decompressZstd(data, maxBytes, context)
    default:
      throw unsupported(`Unknown compression codec ${JSON.stringify(codec)}`, context)
  }
}

function unsupported(message: string, context: ErrorContext): KafkaliteError {
  return new KafkaliteError('ERR_UNSUPPORTED_COMPRESSION', message, context)
}

/**
 * gzip (codec id 1): a standard RFC 1952 stream, as Kafka's `GzipCompression` writes it with the JDK's
 * GZIPOutputStream (deflate level 6, the zlib default). The reader, like the JDK's GZIPInputStream,
 * accepts several concatenated members.
 *
 * Decompression is bounded by zlib's `maxOutputLength`: zlib stops inflating as soon as the output would
 * pass it, so at most one chunk (64 KiB) more than the limit is ever held in memory.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { CorruptRecordError, KafkaliteError, type ErrorContext } from '../../errors/index'

const CHUNK_BYTES = 64 * 1024

export function compressGzip(data: Buffer): Buffer {
  return gzipSync(data)
}

export function decompressGzip(data: Buffer, maxBytes: number, context: ErrorContext): Buffer {
  let out: Buffer
  try {
    // zlib rejects a maxOutputLength of 0; the check below covers that case.
    out = gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes), chunkSize: CHUNK_BYTES })
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw limitExceeded(maxBytes, context, e)
    throw new CorruptRecordError(`Malformed gzip data: ${(e as Error).message}`, { ...context, codec: 'gzip' }, e)
  }
  if (out.length > maxBytes) throw limitExceeded(maxBytes, context)
  return out
}

function limitExceeded(maxBytes: number, context: ErrorContext, cause?: unknown): KafkaliteError {
  return new KafkaliteError(
    'ERR_DECOMPRESSION_LIMIT',
    `gzip records inflate past the limit of ${maxBytes} bytes`,
    { ...context, codec: 'gzip', maxBytes },
    cause,
  )
}

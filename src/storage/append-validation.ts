/**
 * Validation of the batches handed to `PartitionLog.append`, done in full before a single byte is
 * written, so that bad input can never leave the log half-written (Kafka's LogValidator, reduced to
 * what a single process needs).
 *
 * Every batch must be a complete magic-2 batch with a valid CRC-32C, at most `maxMessageBytes` long,
 * with at least one record and `lastOffsetDelta = recordsCount − 1` (a producer batch has no gaps; only
 * the cleaner writes batches with gaps, and it does not come through here). Control batches are refused:
 * they are written by the transaction coordinator, not by producers. With `deep`, every record is also
 * walked and checked (framing, offset deltas 0..n-1, the max timestamp), without materialising it; the library's own
 * producer builds its batches itself and skips it.
 */
import { RECORD_BATCH_OVERHEAD, batchSizeAt, forEachRecordIn, readBatchHeader, validateBatch, type BatchHeader } from '../codec/record-batch'
import { CorruptRecordError, InvalidArgumentError, RecordTooLargeError, type ErrorContext } from '../errors'

export interface ValidatedBatch {
  start: number
  size: number
  header: BatchHeader
}

/**
 * The records of a batch must have offset deltas 0..n-1, and for CreateTime the header's maxTimestamp
 * must be the largest record timestamp: the time index and retention trust the header, so a batch
 * that understates it would hide its records from offsetForTimestamp and expire them early.
 */
function validateRecords(data: Buffer, pos: number, header: BatchHeader, maxDecompressedBytes: number, context: ErrorContext): void {
  let expectedDelta = 0
  let maxTimestamp = -1
  // A walk, not a decode: no key, value or header object per record (this runs on every append).
  forEachRecordIn(data, pos, { maxDecompressedBytes }, context, (offsetDelta, timestamp) => {
    if (offsetDelta !== expectedDelta) {
      throw new CorruptRecordError(`Record ${expectedDelta} of the batch at byte ${pos} has offset delta ${offsetDelta}`, context)
    }
    expectedDelta++
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
  })
  if (header.timestampType === 'CreateTime' && header.maxTimestamp !== maxTimestamp) {
    throw new CorruptRecordError(`Batch at byte ${pos} declares maxTimestamp ${header.maxTimestamp} but its records reach ${maxTimestamp}`, context)
  }
}

export function validateAppend(
  data: Buffer,
  options: { maxMessageBytes: number; deep: boolean; maxDecompressedBatchBytes: number },
  context: ErrorContext,
): ValidatedBatch[] {
  if (!Buffer.isBuffer(data)) throw new InvalidArgumentError('append expects a Buffer of record batches', context)
  if (data.length === 0) throw new InvalidArgumentError('append expects at least one record batch', context)
  const batches: ValidatedBatch[] = []
  let pos = 0
  while (pos < data.length) {
    const size = batchSizeAt(data, pos)
    if (size < RECORD_BATCH_OVERHEAD || pos + size > data.length) {
      throw new CorruptRecordError(`Incomplete or invalid record batch at byte ${pos} of the append (size field ${size})`, context)
    }
    if (size > options.maxMessageBytes) {
      throw new RecordTooLargeError(`Record batch of ${size} bytes exceeds maxMessageBytes ${options.maxMessageBytes}`, {
        ...context,
        size,
        maxMessageBytes: options.maxMessageBytes,
      })
    }
    validateBatch(data, pos, context)
    const header = readBatchHeader(data, pos)
    if (header.isControl) throw new InvalidArgumentError('Control batches cannot be appended by producers', context)
    if (header.recordsCount <= 0 || header.lastOffsetDelta !== header.recordsCount - 1) {
      throw new CorruptRecordError(
        `Batch at byte ${pos} has ${header.recordsCount} records but lastOffsetDelta ${header.lastOffsetDelta}`,
        context,
      )
    }
    if (options.deep) validateRecords(data, pos, header, options.maxDecompressedBatchBytes, context)
    batches.push({ start: pos, size, header })
    pos += size
  }
  return batches
}

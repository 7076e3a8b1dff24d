/**
 * kafkajs 2.2.4 as an independent RecordBatch decoder and encoder (kafka-format.md §5.1), with independent
 * codecs for decoding: kafkajs-snappy (xerial and raw), lz4js (LZ4 frames) and fzstd (zstd), registered on
 * import. kafkajs never checks the CRC, so `decodeLogFile` checks it separately with kafkajs's own CRC-32C.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface KafkajsRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: { [key: string]: Buffer | null | (Buffer | null)[] }
  isControlRecord: boolean
}
export interface KafkajsBatch {
  firstOffset: string
  firstTimestamp: string
  maxTimestamp: string
  partitionLeaderEpoch: number
  lastOffsetDelta: number
  producerId: string
  producerEpoch: number
  firstSequence: number
  timestampType: number
  inTransaction: boolean
  isControlBatch: boolean
  records: KafkajsRecord[]
}
/** kafkajs's primitive reader: the batch walk uses `offset` and `canReadBytes`, schema decoders the rest. */
export interface KafkajsDecoder {
  offset: number
  canReadBytes(n: number): boolean
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readString(): string | null
  readBytes(): Buffer
  readArray<T>(fn: (d: KafkajsDecoder) => T): T[]
}

export const Decoder: new (buf: Buffer) => KafkajsDecoder = require('kafkajs/src/protocol/decoder')
/** Decodes the batch at the decoder's offset and leaves the offset just past it. */
export const decodeRecordBatch: (decoder: KafkajsDecoder) => Promise<KafkajsBatch> = require('kafkajs/src/protocol/recordBatch/v0/decoder')
export const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')

/** kafkajs's RecordBatch v2 encoder: a batch from `KafkajsRecord`s, offsets and producer ids as `Long`s. */
export const KafkajsRecordBatch: (opts: object) => Promise<{ buffer: Buffer }> = (
  require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (opts: object) => Promise<{ buffer: Buffer }> }
).RecordBatch
export const KafkajsRecord: (opts: object) => unknown = require('kafkajs/src/protocol/recordBatch/record/v0')
export const Long: { fromValue(v: number | string): unknown } = require('kafkajs/src/utils/long')

export const { CompressionTypes, CompressionCodecs } = require('kafkajs') as {
  CompressionTypes: { None: number; GZIP: number; Snappy: number; LZ4: number; ZSTD: number }
  CompressionCodecs: { [type: number]: () => unknown }
}
const lz4js: { decompress(src: Uint8Array): Uint8Array } = require('lz4js')
const fzstd: { decompress(src: Uint8Array): Uint8Array } = require('fzstd')

// lz4js and fzstd serve decoding only: the batches tests write with kafkajs are uncompressed or gzip.
const decompressOnly = (decompress: (buf: Buffer) => Uint8Array) => () => ({
  compress: async () => {
    throw new Error('decoder-only codec')
  },
  decompress: async (buf: Buffer) => Buffer.from(decompress(buf)),
})
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy')
CompressionCodecs[CompressionTypes.LZ4] = decompressOnly((buf) => lz4js.decompress(buf))
CompressionCodecs[CompressionTypes.ZSTD] = decompressOnly((buf) => fzstd.decompress(buf))

/** Decodes a whole `.log` file with kafkajs; every batch's CRC is checked with kafkajs's CRC-32C. */
export async function decodeLogFile(buf: Buffer): Promise<{ batches: KafkajsBatch[]; crcOk: boolean[] }> {
  const d = new Decoder(buf)
  const batches: KafkajsBatch[] = []
  const crcOk: boolean[] = []
  while (d.canReadBytes(61)) {
    const pos = d.offset
    const len = buf.readInt32BE(pos + 8)
    crcOk.push(buf.readUInt32BE(pos + 17) === kafkajsCrc32C(buf.subarray(pos + 21, pos + 12 + len)))
    batches.push(await decodeRecordBatch(d))
  }
  return { batches, crcOk }
}

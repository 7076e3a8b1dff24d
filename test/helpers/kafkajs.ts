/**
 * kafkajs 2.2.4 as an independent RecordBatch decoder (kafka-format.md §5.1), with independent codecs:
 * kafkajs-snappy (xerial and raw), lz4js (LZ4 frames) and fzstd (zstd). kafkajs never checks the CRC,
 * so `decodeLogFile` checks it separately with kafkajs's own CRC-32C.
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
  lastOffsetDelta: number
  producerId: string
  producerEpoch: number
  firstSequence: number
  inTransaction: boolean
  isControlBatch: boolean
  records: KafkajsRecord[]
}
interface KafkajsDecoder {
  offset: number
  canReadBytes(n: number): boolean
}

const Decoder: new (buf: Buffer) => KafkajsDecoder = require('kafkajs/src/protocol/decoder')
const decodeRecordBatch: (decoder: KafkajsDecoder) => Promise<KafkajsBatch> = require('kafkajs/src/protocol/recordBatch/v0/decoder')
export const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')
const { CompressionTypes, CompressionCodecs } = require('kafkajs') as {
  CompressionTypes: { Snappy: number; LZ4: number; ZSTD: number }
  CompressionCodecs: { [type: number]: () => unknown }
}
const lz4js: { decompress(src: Uint8Array): Uint8Array } = require('lz4js')
const fzstd: { decompress(src: Uint8Array): Uint8Array } = require('fzstd')

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

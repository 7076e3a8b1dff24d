/**
 * Compression codecs: Kafka's framing for each codec, round trips, decoding other writers' output
 * (command-line zstd and lz4, lz4-napi's frame writer, raw snappy), bounded decompression and malformed
 * input. Independent decoders check our output: node:zlib, snappyjs (via kafkajs-snappy), lz4js, fzstd.
 */
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import lz4napi from 'lz4-napi'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  COMPRESSION_CODECS,
  compress,
  compressionCodecFromId,
  compressionCodecId,
  decompress,
  loadCodecs,
  type CompressionCodec,
} from '../../src/codec/compression/index'
import { LZ4_KAFKA_FRAME_HEADER, xxh32 } from '../../src/codec/compression/lz4'
import { expectSyncCode } from '../helpers/errors'

const require = createRequire(import.meta.url)
const lz4js: { decompress(src: Uint8Array): Uint8Array } = require('lz4js')
const lz4jsXxh32: { hash(seed: number, src: Uint8Array, index: number, length: number): number } = require('lz4js/xxh32')
const fzstd: { decompress(src: Uint8Array): Uint8Array } = require('fzstd')
const snappyjs: { compress(src: Buffer): Buffer; uncompress(src: Buffer): Buffer } = require('snappyjs')
const kafkajsSnappy: () => { decompress(buf: Buffer): Promise<Buffer> } = require('kafkajs-snappy')

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const CODECS = COMPRESSION_CODECS.filter((c) => c !== 'none')
const UNLIMITED = 2 ** 31 - 1

/** Text-like, partly compressible bytes: words from a small vocabulary with counters mixed in. */
function sample(size: number, seed = 1): Buffer {
  const words = ['kafka', 'log', 'segment', 'offset', 'partition', 'batch', 'record', 'lite', 'index', 'crc']
  const parts: string[] = []
  let length = 0
  let state = seed
  while (length < size) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    const word = `${words[state % words.length]}-${state % 977} `
    parts.push(word)
    length += word.length
  }
  return Buffer.from(parts.join('')).subarray(0, size)
}

/** Bytes that do not compress (a xorshift stream). */
function incompressible(size: number): Buffer {
  const buf = Buffer.alloc(size)
  let x = 0x9e3779b9
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    buf[i] = x & 0xff
  }
  return buf
}

// 'kafkalite ' x 50 (500 bytes), written by the zstd 1.5.4 and lz4 1.9.4 command-line tools.
const FIXTURE_TEXT = Buffer.from('kafkalite '.repeat(50))
/** `zstd -c < in`: streamed, so no content size (FHD 0x04: checksum only), like zstd-jni in Kafka. */
const ZSTD_CLI_NO_CONTENT_SIZE = hex('28b52ffd04588d0000506b61666b616c697465200100e7550b12907b76a3')
/** `zstd -c in`: single segment with a 2-byte content size (FHD 0x64). */
const ZSTD_CLI_CONTENT_SIZE = hex('28b52ffd64f4008d0000506b61666b616c697465200100e7550b12907b76a3')
/** `lz4 --content-size -BX -B4`: FLG 0x7c, content size, block checksums, content checksum. */
const LZ4_CLI_ALL_CHECKSUMS = hex(
  '04224d187c40f401000000000000b815000000af6b61666b616c697465200a00ffd3506c697465208392a362000000007bfdbae3',
)
/** `lz4 -B4`: FLG 0x64, content checksum. */
const LZ4_CLI_DEFAULT = hex('04224d186440a715000000af6b61666b616c697465200a00ffd3506c69746520000000007bfdbae3')

interface Lz4Options {
  flg: number
  contentSize?: number
  blockChecksums?: boolean
  contentChecksum?: Buffer
}

/**
 * Re-frames the blocks of one of our Kafka-style LZ4 frames under other header flags, computing every
 * checksum with lz4js's xxh32 (independent of ours).
 */
function reframeLz4(kafkaFrame: Buffer, opts: Lz4Options): Buffer {
  const blocks: Buffer[] = []
  let pos = LZ4_KAFKA_FRAME_HEADER.length
  for (;;) {
    const size = kafkaFrame.readUInt32LE(pos)
    if (size === 0) break
    const length = size & 0x7fffffff
    blocks.push(kafkaFrame.subarray(pos, pos + 4 + length))
    pos += 4 + length
  }
  const descriptor = [opts.flg, 0x40]
  if (opts.contentSize !== undefined) {
    const size = Buffer.alloc(8)
    size.writeBigUInt64LE(BigInt(opts.contentSize))
    descriptor.push(...size)
  }
  const descriptorBytes = Buffer.from(descriptor)
  const hc = (lz4jsXxh32.hash(0, descriptorBytes, 0, descriptorBytes.length) >>> 8) & 0xff
  const parts = [hex('04224d18'), descriptorBytes, Buffer.from([hc])]
  for (const block of blocks) {
    parts.push(block)
    if (opts.blockChecksums) {
      const checksum = Buffer.alloc(4)
      checksum.writeUInt32LE(lz4jsXxh32.hash(0, block, 4, block.length - 4) >>> 0)
      parts.push(checksum)
    }
  }
  parts.push(Buffer.alloc(4))
  if (opts.contentChecksum) {
    const checksum = Buffer.alloc(4)
    checksum.writeUInt32LE(lz4jsXxh32.hash(0, opts.contentChecksum, 0, opts.contentChecksum.length) >>> 0)
    parts.push(checksum)
  }
  return Buffer.concat(parts)
}

/**
 * Rewrites a zstd frame that declares its content size into one that does not, the way zstd-jni's
 * streaming writer frames data: the single-segment flag and content size give way to a window descriptor
 * (2^27, larger than any content here). The compressed blocks do not depend on the header.
 */
function stripZstdContentSize(frame: Buffer): Buffer {
  const descriptor = frame[4]!
  const singleSegment = (descriptor & 0x20) !== 0
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!
  const headerEnd = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes
  const newDescriptor = descriptor & 0x07 // keep the checksum and dictionary flags
  const windowDescriptor = (27 - 10) << 3
  return Buffer.concat([frame.subarray(0, 4), Buffer.from([newDescriptor, windowDescriptor]), frame.subarray(headerEnd - fcsBytes - dictBytes, headerEnd - fcsBytes), frame.subarray(headerEnd)])
}

beforeAll(async () => {
  await loadCodecs()
})

describe('compression > codec ids', () => {
  it('numbers the codecs as Kafka does: none 0, gzip 1, snappy 2, lz4 3, zstd 4', () => {
    expect(COMPRESSION_CODECS).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
    expect(COMPRESSION_CODECS.map((c) => compressionCodecId(c))).toEqual([0, 1, 2, 3, 4])
    expect(compressionCodecFromId(4)).toBe('zstd')
    expect(compressionCodecFromId(5)).toBeUndefined()
  })

  it('rejects an unknown codec name with ERR_UNSUPPORTED_COMPRESSION', () => {
    expectSyncCode(() => compress('brotli' as CompressionCodec, Buffer.alloc(1)), 'ERR_UNSUPPORTED_COMPRESSION')
  })

  it("'none' passes data through but still enforces the limit", () => {
    const data = sample(100)
    expect(compress('none', data)).toBe(data)
    expect(decompress('none', data, 100)).toBe(data)
    expectSyncCode(() => decompress('none', data, 99), 'ERR_DECOMPRESSION_LIMIT')
  })
})

describe('compression > round trip', () => {
  for (const codec of CODECS) {
    for (const size of [0, 1, 1000, 300_000]) {
      it(`${codec} restores ${size} bytes`, () => {
        const data = sample(size, size + 7)
        expect(decompress(codec, compress(codec, data), UNLIMITED).equals(data)).toBe(true)
      })
    }
    it(`${codec} restores incompressible data across several blocks`, () => {
      const data = incompressible(200_000)
      expect(decompress(codec, compress(codec, data), UNLIMITED).equals(data)).toBe(true)
    })
  }
})

describe('compression > framing as Kafka writes it', () => {
  it('gzip is a standard RFC 1952 stream that zlib reads', () => {
    const data = sample(50_000)
    const out = compress('gzip', data)
    expect(out.subarray(0, 3).toString('hex')).toBe('1f8b08')
    expect(gunzipSync(out).equals(data)).toBe(true)
  })

  it('snappy uses xerial framing: magic, version 1, compat 1, then one int32-prefixed block per 32 KiB', async () => {
    const data = sample(100_000)
    const out = compress('snappy', data)
    expect(out.subarray(0, 16).toString('hex')).toBe('82534e4150505900' + '00000001' + '00000001')
    const inputSizes: number[] = []
    for (let pos = 16; pos < out.length; ) {
      const length = out.readInt32BE(pos)
      inputSizes.push(snappyjs.uncompress(out.subarray(pos + 4, pos + 4 + length)).length)
      pos += 4 + length
    }
    expect(inputSizes).toEqual([32768, 32768, 32768, 100_000 - 3 * 32768])
    expect((await kafkajsSnappy().decompress(out)).equals(data)).toBe(true)
  })

  for (const [name, data] of [
    ['small', sample(100)],
    ['large', sample(300_000)],
    ['incompressible', incompressible(100_000)],
  ] as const) {
    it(`lz4 frames (${name}) start 04 22 4d 18 60 40 82, use ≤ 64 KiB blocks, end 00000000, and lz4js reads them`, () => {
      const out = compress('lz4', data)
      expect(out.subarray(0, 7).toString('hex')).toBe('04224d18604082')
      expect(out.subarray(-4).toString('hex')).toBe('00000000')
      let blocks = 0
      for (let pos = 7; out.readUInt32LE(pos) !== 0; blocks++) {
        const length = out.readUInt32LE(pos) & 0x7fffffff
        expect(length).toBeLessThanOrEqual(64 * 1024)
        pos += 4 + length
      }
      expect(blocks).toBe(Math.ceil(data.length / 65536))
      expect(Buffer.from(lz4js.decompress(out)).equals(data)).toBe(true)
    })
  }

  it('lz4 stores a block that does not shrink, with the high bit of its size set', () => {
    const data = incompressible(1000)
    const out = compress('lz4', data)
    expect(out.readUInt32LE(7)).toBe((0x80000000 | 1000) >>> 0)
    expect(out.subarray(11, 1011).equals(data)).toBe(true)
  })

  it('lz4 header checksum is xxh32 of FLG and BD, as an independent xxh32 computes it', () => {
    expect(LZ4_KAFKA_FRAME_HEADER.toString('hex')).toBe('04224d18604082')
    const data = sample(5000)
    expect(xxh32(data, 0, data.length)).toBe(lz4jsXxh32.hash(0, data, 0, data.length) >>> 0)
    expect(xxh32(data, 17, 30)).toBe(lz4jsXxh32.hash(0, data, 17, 13) >>> 0)
  })

  it('zstd writes standard frames that fzstd reads', () => {
    const data = sample(300_000)
    const out = compress('zstd', data)
    expect(out.subarray(0, 4).toString('hex')).toBe('28b52ffd')
    expect(Buffer.from(fzstd.decompress(out)).equals(data)).toBe(true)
  })
})

describe('compression > reading what other writers produce', () => {
  it('snappy reads raw (unframed) snappy, as Kafka does', () => {
    const data = sample(10_000)
    expect(decompress('snappy', snappyjs.compress(data), UNLIMITED).equals(data)).toBe(true)
  })

  it('snappy reads concatenated xerial streams', () => {
    const a = sample(40_000, 1)
    const b = sample(1000, 2)
    const joined = Buffer.concat([compress('snappy', a), compress('snappy', b)])
    expect(decompress('snappy', joined, UNLIMITED).equals(Buffer.concat([a, b]))).toBe(true)
  })

  it('lz4 reads frames from the lz4 CLI with content size, block checksums and content checksum', () => {
    expect(decompress('lz4', LZ4_CLI_ALL_CHECKSUMS, UNLIMITED).equals(FIXTURE_TEXT)).toBe(true)
    expect(decompress('lz4', LZ4_CLI_DEFAULT, UNLIMITED).equals(FIXTURE_TEXT)).toBe(true)
  })

  it("lz4 reads lz4-napi's own frames, which pick blocks larger than Kafka's 64 KiB for large inputs", () => {
    const data = sample(600_000)
    const frame = lz4napi.compressFrameSync(data)
    expect(frame[5]).toBeGreaterThan(0x40)
    expect(decompress('lz4', frame, UNLIMITED).equals(data)).toBe(true)
  })

  it('lz4 reads multi-block frames with a content size and block checksums', () => {
    const data = sample(200_000)
    const frame = reframeLz4(compress('lz4', data), { flg: 0x7c, contentSize: data.length, blockChecksums: true, contentChecksum: data })
    expect(decompress('lz4', frame, UNLIMITED).equals(data)).toBe(true)
  })

  it('zstd reads a streamed frame without a content size (as zstd-jni writes)', () => {
    expect(ZSTD_CLI_NO_CONTENT_SIZE[4]! & 0xe0).toBe(0) // no content size, not single-segment
    expect(decompress('zstd', ZSTD_CLI_NO_CONTENT_SIZE, UNLIMITED).equals(FIXTURE_TEXT)).toBe(true)
    expect(decompress('zstd', ZSTD_CLI_CONTENT_SIZE, UNLIMITED).equals(FIXTURE_TEXT)).toBe(true)
  })

  it('zstd reads large multi-block frames without a content size', () => {
    const data = sample(700_000)
    const stripped = stripZstdContentSize(compress('zstd', data))
    expect(stripped[4]! & 0xe0).toBe(0)
    expect(Buffer.from(fzstd.decompress(stripped)).equals(data)).toBe(true) // the rewrite is a valid frame
    expect(decompress('zstd', stripped, UNLIMITED).equals(data)).toBe(true)
  })

  it('zstd reads concatenated frames and skips skippable frames', () => {
    const a = sample(5000, 3)
    const b = sample(7000, 4)
    const skippable = Buffer.concat([hex('502a4d18'), hex('03000000'), hex('aabbcc')])
    const joined = Buffer.concat([compress('zstd', a), skippable, ZSTD_CLI_NO_CONTENT_SIZE, compress('zstd', b)])
    expect(decompress('zstd', joined, UNLIMITED).equals(Buffer.concat([a, FIXTURE_TEXT, b]))).toBe(true)
  })
})

describe('compression > bounded decompression', () => {
  const zeros = Buffer.alloc(1024 * 1024)
  for (const codec of CODECS) {
    it(`${codec} inflates exactly up to the limit and throws ERR_DECOMPRESSION_LIMIT one byte below it`, () => {
      const compressed = compress(codec, zeros)
      expect(compressed.length).toBeLessThan(zeros.length / 20)
      expect(decompress(codec, compressed, zeros.length).length).toBe(zeros.length)
      const error = expectSyncCode(() => decompress(codec, compressed, zeros.length - 1, { topic: 't', partition: 3 }), 'ERR_DECOMPRESSION_LIMIT')
      expect(error.message).toContain(codec)
      expect(error.message).toContain(String(zeros.length - 1))
      expect(error.context).toMatchObject({ codec, maxBytes: zeros.length - 1, topic: 't', partition: 3 })
    })
  }

  it('zstd bounds frames without a content size', () => {
    const stripped = stripZstdContentSize(compress('zstd', zeros))
    expect(decompress('zstd', stripped, zeros.length).length).toBe(zeros.length)
    expectSyncCode(() => decompress('zstd', stripped, 64 * 1024), 'ERR_DECOMPRESSION_LIMIT')
    expectSyncCode(() => decompress('zstd', ZSTD_CLI_NO_CONTENT_SIZE, FIXTURE_TEXT.length - 1), 'ERR_DECOMPRESSION_LIMIT')
  })

  it('zstd rejects a declared content size over the limit before inflating', () => {
    expectSyncCode(() => decompress('zstd', ZSTD_CLI_CONTENT_SIZE, 499), 'ERR_DECOMPRESSION_LIMIT')
  })

  it('snappy rejects a block by its declared length before inflating it', () => {
    // A raw block that claims 2^32 - 1 bytes: refused from its 5-byte preamble alone.
    expectSyncCode(() => decompress('snappy', hex('ffffffff0f00'), 1 << 20), 'ERR_DECOMPRESSION_LIMIT')
    const framed = Buffer.concat([compress('snappy', Buffer.alloc(0)), hex('00000006 ffffffff0f00')])
    expectSyncCode(() => decompress('snappy', framed, 1 << 20), 'ERR_DECOMPRESSION_LIMIT')
  })

  it('lz4 counts stored blocks against the limit too', () => {
    const data = incompressible(100_000)
    expectSyncCode(() => decompress('lz4', compress('lz4', data), 99_999), 'ERR_DECOMPRESSION_LIMIT')
  })
})

describe('compression > malformed data is ERR_CORRUPT_RECORD', () => {
  const garbage: Record<Exclude<CompressionCodec, 'none'>, Buffer> = {
    gzip: hex('1f8b0800000000000003ffffffffffffff'),
    snappy: Buffer.concat([compress('snappy', Buffer.alloc(0)), hex('00000006 05ffffffffff')]),
    lz4: Buffer.concat([LZ4_KAFKA_FRAME_HEADER, hex('08000000 ffffffffffffffff 00000000')]),
    zstd: hex('28b52ffd0058 0d0000 ffffffffffffffffffffffffffffffff'),
  }
  for (const codec of CODECS) {
    it(`${codec}: garbage`, () => {
      const error = expectSyncCode(() => decompress(codec, garbage[codec], UNLIMITED, { topic: 't' }), 'ERR_CORRUPT_RECORD')
      expect(error.message).toContain(codec)
      expect(error.topic).toBe('t')
    })

    it(`${codec}: truncated output`, () => {
      const out = compress(codec, sample(100_000))
      expectSyncCode(() => decompress(codec, out.subarray(0, Math.floor(out.length / 2)), UNLIMITED), 'ERR_CORRUPT_RECORD')
    })

    it(`${codec}: random bytes`, () => {
      expectSyncCode(() => decompress(codec, incompressible(300), UNLIMITED), 'ERR_CORRUPT_RECORD')
    })
  }

  it('zstd: a checksum mismatch', () => {
    const flipped = Buffer.from(ZSTD_CLI_NO_CONTENT_SIZE)
    flipped[12]! ^= 0x01 // inside the literal "kafkalite "
    expectSyncCode(() => decompress('zstd', flipped, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })

  it('lz4: dependent blocks, which Kafka rejects', () => {
    const frame = reframeLz4(compress('lz4', sample(1000)), { flg: 0x40 })
    expect(Buffer.from(lz4js.decompress(frame)).equals(sample(1000))).toBe(true) // otherwise a valid frame
    const error = expectSyncCode(() => decompress('lz4', frame, UNLIMITED), 'ERR_CORRUPT_RECORD')
    expect(error.message).toMatch(/[Dd]ependent block/)
  })

  it('lz4: a wrong header checksum', () => {
    const frame = Buffer.from(compress('lz4', sample(1000)))
    frame[6]! ^= 0xff
    expectSyncCode(() => decompress('lz4', frame, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })

  it('lz4: a wrong block checksum', () => {
    const frame = Buffer.from(LZ4_CLI_ALL_CHECKSUMS)
    frame[20]! ^= 0x01
    expectSyncCode(() => decompress('lz4', frame, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })

  it('lz4: a block larger than the frame declares', () => {
    const frame = Buffer.concat([LZ4_KAFKA_FRAME_HEADER, hex('01000100'), Buffer.alloc(65537), hex('00000000')])
    expectSyncCode(() => decompress('lz4', frame, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })

  it('lz4: reserved bits in FLG or BD', () => {
    expectSyncCode(() => decompress('lz4', reframeLz4(compress('lz4', sample(10)), { flg: 0x61 }), UNLIMITED), 'ERR_CORRUPT_RECORD')
  })

  it('snappy: a block whose length overruns the input', () => {
    const framed = Buffer.concat([compress('snappy', Buffer.alloc(0)), hex('00001000 0102')])
    expectSyncCode(() => decompress('snappy', framed, UNLIMITED), 'ERR_CORRUPT_RECORD')
  })
})

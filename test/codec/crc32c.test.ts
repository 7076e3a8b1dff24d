import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { crc32c } from '../../src/codec/crc32c'

const require = createRequire(import.meta.url)
/** kafkajs's pure-JS CRC-32C: an independent implementation. */
const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C')

describe('crc32c', () => {
  it('matches Kafka Crc32CTest: "Some String" is 608512271', () => {
    expect(crc32c(Buffer.from('Some String'))).toBe(608512271)
  })

  it('matches the standard check value: "123456789" is 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })

  it('returns an unsigned 32-bit value', () => {
    const value = crc32c(Buffer.from('123456789'))
    expect(value).toBeGreaterThan(2 ** 31)
    expect(Number.isInteger(value)).toBe(true)
  })

  it('checksums only the bytes of a subarray view', () => {
    const padded = Buffer.from('xx123456789yy')
    expect(crc32c(padded.subarray(2, 11))).toBe(0xe3069283)
  })

  it('continues from a previous value', () => {
    expect(crc32c(Buffer.from('6789'), crc32c(Buffer.from('12345')))).toBe(0xe3069283)
  })

  it('agrees with kafkajs on arbitrary data', () => {
    const data = Buffer.alloc(100_003)
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
    expect(crc32c(data)).toBe(kafkajsCrc32C(data))
    expect(crc32c(Buffer.alloc(0))).toBe(0)
  })
})

/**
 * CRC-32C (Castagnoli), the checksum of record batches (over bytes [21, end), see record-batch) and of
 * producer snapshots. It is computed natively by `@node-rs/crc32`, which uses the SSE4.2 / ARMv8 CRC
 * instructions where the CPU has them; a batch append checksums every byte it writes, so this is hot.
 *
 * Test vectors: crc32c("123456789") = 0xE3069283 (the standard check value) and
 * crc32c("Some String") = 608512271 (Kafka `Crc32CTest`).
 */
import crc32 from '@node-rs/crc32'

// A default import: the package is CommonJS without named-export hints, which Node's ESM loader needs.
const nativeCrc32c = crc32.crc32c

/**
 * The CRC-32C of `data` as an unsigned 32-bit integer. `initial` continues a previous result, so
 * `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 */
export function crc32c(data: Uint8Array, initial = 0): number {
  return nativeCrc32c(data, initial) >>> 0
}

/**
 * zstd needs its WebAssembly module instantiated (asynchronously) before the synchronous codec API can use
 * it. This file runs in its own worker, so it sees the codecs before anything has loaded them.
 */
import { describe, expect, it } from 'vitest'
import { compress, decompress, loadCodecs } from '../../src/codec/compression/index'
import { isKafkaliteError } from '../../src/errors/index'

describe('compression > loadCodecs', () => {
  it('zstd throws ERR_UNSUPPORTED_COMPRESSION naming loadCodecs() until it has resolved; then it works', async () => {
    const data = Buffer.from('kafkalite '.repeat(100))
    for (const attempt of [() => compress('zstd', data), () => decompress('zstd', Buffer.from('28b52ffd', 'hex'), 100)]) {
      let error: unknown
      try {
        attempt()
      } catch (e) {
        error = e
      }
      expect(isKafkaliteError(error, 'ERR_UNSUPPORTED_COMPRESSION')).toBe(true)
      expect((error as Error).message).toContain('loadCodecs()')
    }
    // The other codecs need no loading.
    expect(decompress('lz4', compress('lz4', data), 1000).equals(data)).toBe(true)

    const first = loadCodecs()
    const second = loadCodecs()
    await Promise.all([first, second])
    await loadCodecs()
    expect(decompress('zstd', compress('zstd', data), 1000).equals(data)).toBe(true)
  })
})

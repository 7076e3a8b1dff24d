import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Native and WASM codecs stay external: they resolve their own binaries at run time.
  external: ['@node-rs/crc32', 'lz4-napi', '@napi-rs/snappy', '@bokuweb/zstd-wasm', 'fs-extra'],
})

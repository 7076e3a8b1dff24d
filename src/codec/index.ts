/** The codec layer's public surface: pure functions from values to Kafka's bytes and back. */
export * from './varint'
export * from './crc32c'
export * from './compression/index'
export * from './record-batch'

/**
 * The part of a topic's configuration that the storage layer acts on. The config layer's resolved
 * TopicConfig is structurally a superset, so it is passed straight through.
 */
export type Durability = 'none' | 'fsync'

export interface LogConfig {
  segmentBytes: number
  segmentMs: number
  segmentIndexBytes: number
  indexIntervalBytes: number
  maxMessageBytes: number
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  /** fsync once this many records are unflushed (Kafka `flush.messages`). */
  flushMessages: number
  /** fsync once data has been unflushed this long (Kafka `flush.ms`). */
  flushMs: number
  /**
   * 'fsync': every append is fsynced with group commit and the high watermark is the last fsynced
   * offset, so readers never see what a machine crash could take back. 'none': data is left to the OS
   * page cache (and to flushMessages/flushMs); the high watermark is the log end offset.
   */
  durability: Durability
  /** Bound on a batch's decompressed size when the log decodes one (offsetForTimestamp, validation). */
  maxDecompressedBatchBytes: number
}

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime' as const,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  durability: 'fsync' as const,
  maxDecompressedBatchBytes: 64 * 1024 * 1024,
})

/**
 * kafkalite's public surface. Everything a user imports comes from here; test/api/exports.test.ts
 * pins the list, so a change to it is a deliberate one.
 */

// The root object, topics and partitions.
export { Kafkalite, type KafkaliteOptions } from './api/kafkalite'
export { Topic } from './api/topic'
export { Partition, DEFAULT_READ_MAX_BYTES, type ReadOptions, type ReadRecordsOptions, type ReadRecordsResult } from './api/partition'
export type {
  CreateTopicOptions,
  DataLocation,
  EnginePorts,
  PartitionDescription,
  TopicConfigChanges,
  TopicDescription,
} from './engine/engine'
export type { OpenReport, PartitionOpenReport } from './engine/open-report'
export type { TopicId } from './engine/topic-id'
export type { AppendResult, ReadResult } from './storage/partition-log'
export type { RecoveryReport } from './storage/recovery'

// Consuming: a standalone consumer (kl.consumer) and what it hands out.
export { Consumer } from './consumer/consumer'
export type { ConsumerState } from './consumer/lifecycle'
export type { Batch, EachBatchPayload, EachMessagePayload, RunOptions } from './consumer/run-loop'
export type {
  ConsumerRecord,
  OffsetForTimeResult,
  OffsetResetEvent,
  OffsetResetTotals,
  PollOptions,
  TopicPartition,
  TopicPartitionOffset,
} from './consumer/types'

// Consumer groups: kl.consumerGroup(id).consumer({ topics | pattern }), commits, describe, resetOffsets.
export { ConsumerGroup, type ConsumerGroupOptions } from './group/consumer-group'
export { GroupConsumer, type CommitOffset, type CommittedOffsetInfo, type GroupConsumerOptions } from './group/member'
export type { RebalanceListeners } from './group/member-session'
export type { GroupDescription, MemberDescription, PartitionLag } from './group/describe'
export type { ResetOffsetsOptions, ResetPlanEntry, ResetTarget } from './group/reset-offsets'
export type { GroupListing } from './group/coordinator'
export type { GroupState } from './group/group-state'

// Producing: kl.producer(options) and what it takes and returns.
export { Producer, type ProducerOptions } from './producer/producer'
export type { HeaderValue, ProducerRecord, RecordBytes, RecordHeaders, RecordMetadata, TopicMessages } from './producer/records'
export type { ProducerIdAndEpoch } from './producer/host'

// Errors: switch on `code`.
export {
  ClosedError,
  CorruptRecordError,
  InvalidArgumentError,
  InvalidConfigError,
  IoError,
  isKafkaliteError,
  KafkaliteError,
  LockedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  type ErrorCode,
  type ErrorContext,
} from './errors/index'

// Building and reading record batches (for Partition.append and Partition.read).
export {
  decodeRecords,
  encodeRecordBatch,
  forEachBatch,
  readBatchHeader,
  type BatchHeader,
  type BatchInput,
  type Record,
  type RecordHeader,
  type RecordInput,
} from './codec/record-batch'
export type { CompressionCodec } from './codec/compression/index'

// Configuration types (Kafka's names, camelCased).
export type {
  AssignmentStrategy,
  AutoOffsetReset,
  CleanupPolicy,
  ConsumerConfig,
  ConsumerConfigInput,
  Acks,
  Partitioner,
  PartitionerFunction,
  ProducerCompressionType,
  ProducerConfig,
  ProducerConfigInput,
  Durability,
  EngineConfig,
  EngineConfigInput,
  TimestampType,
  TopicCompressionType,
  TopicConfig,
  TopicConfigInput,
} from './config/index'

// Ports, for tests: an in-memory disk (with crash simulation) and a clock that moves only when told.
export { ManualClock, SystemClock, type Clock, type TimerHandle } from './io/clock'
export { MemoryFileSystem, type CrashOptions, type MemoryFsStats } from './io/memory-fs'
export type { FileHandle, FileStat, FileSystem, OpenMode } from './io/file-system'
export type { Offset, Position, TimestampMs } from './util/types'

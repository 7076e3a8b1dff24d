/**
 * The internal topic `__consumer_offsets`: where a group's records go and where they are read back from.
 *
 * - The topic is created on first use (a commit, a join), compacted, with the engine's
 *   `offsetsTopicNumPartitions` partitions and `offsetsTopicSegmentBytes` segments, as a Kafka broker
 *   creates it on the first FindCoordinator request.
 * - A group lives in partition `abs(groupId.hashCode()) % partitions` (codec/murmur2.ts
 *   `groupPartition`), so all of a group's records are in one partition, in order.
 * - The records of one operation (a commit of several partitions, a deletion) go out as one batch, so
 *   they become durable, and are replayed, together: Kafka appends a commit's records atomically too.
 *
 * Concurrency: `append` is synchronous (the partition log's single writer), so a caller can check its
 * preconditions, append and replay without an await in between. `flush` awaits the fsync that makes an
 * append durable; concurrent flushes share fsyncs (the log's group commit).
 */
import { decodeRecords, encodeRecordBatch, forEachBatch, readBatchHeader } from '../codec/record-batch'
import { groupPartition } from '../codec/murmur2'
import type { Engine } from '../engine/engine'
import { isKafkaliteError } from '../errors/index'
import type { Offset } from '../util/types'
import type { OffsetsRecord } from './offsets-records'

export const OFFSETS_TOPIC = '__consumer_offsets'

/** Bytes read from the log per step while loading. */
const LOAD_READ_BYTES = 1024 * 1024

export interface AppendedRecords {
  readonly partition: number
  readonly lastOffset: Offset
}

export class OffsetsLog {
  private creating: Promise<void> | undefined

  constructor(private readonly engine: Engine) {}

  get exists(): boolean {
    return this.engine.hasTopic(OFFSETS_TOPIC)
  }

  /** Creates the topic if it does not exist yet. Concurrent callers share one creation. */
  ensureTopic(): Promise<void> {
    if (this.exists) return Promise.resolve()
    this.creating ??= this.engine
      .createTopic(OFFSETS_TOPIC, {
        partitions: this.engine.config.offsetsTopicNumPartitions,
        cleanupPolicy: 'compact',
        segmentBytes: this.engine.config.offsetsTopicSegmentBytes,
      })
      .catch((e: unknown) => {
        if (!isKafkaliteError(e, 'ERR_TOPIC_ALREADY_EXISTS')) throw e
      })
      .finally(() => {
        this.creating = undefined
      })
    return this.creating
  }

  /** The partition holding `groupId`'s records; counts the partitions the topic actually has. */
  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.engine.partitionCount(OFFSETS_TOPIC))
  }

  /**
   * Appends `records` as one batch to the group's partition. Synchronous: when it returns the records
   * are in the OS (they survive a process crash); `flush` makes them survive a machine crash.
   */
  append(groupId: string, records: readonly OffsetsRecord[]): AppendedRecords {
    const partition = this.partitionFor(groupId)
    const timestamp = this.engine.clock.now()
    const batch = encodeRecordBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp })) })
    const { lastOffset } = this.engine.log(OFFSETS_TOPIC, partition).append(batch, { deepValidation: false })
    return { partition, lastOffset }
  }

  /** Resolves once the append that ended at `appended.lastOffset` is fsynced. */
  flush(appended: AppendedRecords): Promise<void> {
    return this.engine.log(OFFSETS_TOPIC, appended.partition).flushUpTo(appended.lastOffset)
  }

  /**
   * Calls `visit` for every record of every partition, in offset order within a partition, reading up
   * to the log end (what recovery kept is what the live process had appended). Control batches carry no
   * group state and are skipped. Transactional offset commits (sendOffsetsToTransaction) are not written
   * by kafkalite and are not supported here: a directory holding them is read as if they were committed.
   */
  load(visit: (key: Buffer, value: Buffer | null) => void): void {
    if (!this.exists) return
    const partitions = this.engine.partitionCount(OFFSETS_TOPIC)
    for (let p = 0; p < partitions; p++) {
      const log = this.engine.log(OFFSETS_TOPIC, p)
      const decodeOptions = { maxDecompressedBytes: log.logConfig.maxDecompressedBatchBytes }
      let next = log.logStartOffset
      while (next < log.logEndOffset) {
        const { records } = log.read(next, LOAD_READ_BYTES, { uncommitted: true })
        if (records.length === 0) break
        forEachBatch(records, (pos) => {
          const header = readBatchHeader(records, pos)
          next = header.lastOffset + 1
          if (header.isControl) return
          for (const record of decodeRecords(records, pos, decodeOptions, { topic: log.topic, partition: p })) {
            if (record.key !== null) visit(record.key, record.value)
          }
        })
      }
    }
  }
}

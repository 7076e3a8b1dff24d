/**
 * `for await (const record of consumer)`: records one at a time, forever, until the consumer closes.
 *
 * Each poll takes up to `maxPollRecords`; the position of a partition moves past a record when the
 * record is handed out, so a commit made in the loop body covers what the body has seen and no more.
 * Leaving the loop (`break`, `return`, a thrown error in the body) calls `return()`, which gives the
 * records polled but not handed out back to the next poll. `return()` may also come while a `next()` is
 * still waiting in a poll (`Readable.from(consumer)` destroyed, a race against a timeout): the poll is
 * ended at once, so that the consumer can poll again, and the waiting `next()` resolves done. A paused partition's remaining records are
 * given back the same way and come again after `resume`.
 *
 * Concurrency: one `next()` at a time, as `for await` does; the consumer refuses a second concurrent poll.
 */
import type { ConsumerLifecycle } from './lifecycle'
import { giveBack, markDelivered, mayDeliver, type ChunkSource, type FetchedChunk } from './delivery'
import type { ConsumerRecord } from './types'

export class RecordIterator implements AsyncIterator<ConsumerRecord> {
  private chunks: FetchedChunk[] = []
  private chunkIndex = 0
  private recordIndex = 0
  private finished = false
  /** A `next()` is waiting in a poll. */
  private polling = false

  constructor(
    private readonly source: ChunkSource,
    private readonly lifecycle: ConsumerLifecycle,
  ) {}

  async next(): Promise<IteratorResult<ConsumerRecord, undefined>> {
    for (;;) {
      if (this.finished) return { done: true, value: undefined }
      const record = this.nextPolled()
      if (record !== undefined) return { done: false, value: record }
      if (!this.source.active) {
        this.finished = true
        continue
      }
      this.lifecycle.ensureNotRunning('Iterating the consumer')
      const chunks = await this.poll()
      if (this.finished) {
        // return() came while this poll waited: nothing of it is handed out.
        for (const chunk of chunks) giveBack(chunk)
        continue
      }
      this.chunks = chunks
      this.chunkIndex = 0
      this.recordIndex = 0
    }
  }

  /** Gives back what was polled and not handed out; the iteration is over. */
  async return(): Promise<IteratorResult<ConsumerRecord, undefined>> {
    for (let c = this.chunkIndex; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!
      if (c > this.chunkIndex || this.recordIndex < chunk.records.length) giveBack(chunk)
    }
    this.chunks = []
    this.finished = true
    if (this.polling) this.source.wakeup()
    return { done: true, value: undefined }
  }

  private async poll(): Promise<FetchedChunk[]> {
    this.polling = true
    try {
      return await this.source.fetchChunks({ maxRecords: this.source.maxPollRecords, timeoutMs: this.source.pollTimeoutMs })
    } finally {
      this.polling = false
    }
  }

  private nextPolled(): ConsumerRecord | undefined {
    while (this.chunkIndex < this.chunks.length) {
      const chunk = this.chunks[this.chunkIndex]!
      if (this.recordIndex < chunk.records.length && mayDeliver(chunk)) {
        const index = this.recordIndex++
        markDelivered(chunk, index)
        return chunk.records[index]
      }
      this.chunkIndex++
      this.recordIndex = 0
    }
    return undefined
  }
}

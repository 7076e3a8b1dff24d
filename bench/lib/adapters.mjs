/**
 * How the measurements drive the public Producer and consumer. Each adapter exists only when the API it
 * needs is in the built package; a measurement without its adapter reports "not yet available".
 *
 *   producer(db, { acks, lingerMs? }) → { send(records: {key, value}[]): Promise, flush(): Promise, close(): Promise }
 *   consumer(db, topic, onValue(value: Buffer)) → Promise<{ close(): Promise }>   (from offset 0, in order)
 *   consumerScan(db, expectedCount, afterPoll?) → Promise<{ ms, count, checksum }> (materialised records)
 */
import { now } from './stats.mjs'

/** Records per poll in the consumer scan: Kafka's default (500) costs a promise per 500 records. */
export const SCAN_MAX_POLL_RECORDS = 500

/**
 * Sends in flight in the append measurement: the loop awaits the oldest send once this many are
 * outstanding, as a pipelined producer loop does (awaiting every send would measure linger and fsync
 * latency, not throughput).
 */
export const APPEND_SENDS_IN_FLIGHT = 64

export function makeAdapters(kl, has) {
  const adapters = {}
  if (has.producer) {
    adapters.producer = (db, { acks, lingerMs }) => {
      const producer = db.producer({ acks, ...(lingerMs !== undefined && { lingerMs }) })
      return {
        send: (records) => producer.send('bench', records),
        flush: () => producer.flush(),
        close: () => producer.close(),
      }
    }
    /** Sends `count` records of `pool`, `batch` per send call, with default producer settings but acks; timed. */
    adapters.producerAppend = async (db, pool, count, { acks, batch }) => {
      const producer = db.producer({ acks })
      const inFlight = []
      const start = now()
      for (let i = 0; i < count; ) {
        const n = Math.min(batch, count - i)
        const records = new Array(n)
        for (let j = 0; j < n; j++, i++) records[j] = pool.record(i)
        inFlight.push(producer.send('bench', records))
        if (inFlight.length >= APPEND_SENDS_IN_FLIGHT) await inFlight.shift()
      }
      await Promise.all(inFlight)
      const ms = now() - start
      await producer.close()
      return ms
    }
  }
  if (has.consumer) {
    adapters.consumerScan = async (db, expectedCount, afterPoll = undefined) => {
      const consumer = db.consumer({ autoOffsetReset: 'earliest', maxPollRecords: SCAN_MAX_POLL_RECORDS })
      consumer.assign([{ topic: 'bench', partition: 0 }])
      const start = now()
      let count = 0
      let checksum = 0
      while (count < expectedCount) {
        const records = await consumer.poll({ timeoutMs: 1000 })
        afterPoll?.()
        if (records.length === 0) break
        for (const r of records) {
          const v = r.value
          checksum = (checksum + ((((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) ^ v[v.length - 1]) | 0)) | 0
          count++
        }
      }
      const ms = now() - start
      await consumer.close()
      return { ms, count, checksum }
    }
    if (has.consumerGroup) {
      const members = new WeakMap()
      /**
       * The same scan by the only member of a consumer group. The member joins once per data directory
       * (its first poll, outside the timed section, pays the join and groupInitialRebalanceDelayMs);
       * each scan then seeks to the beginning and polls to the end. One group is reused because a
       * fifth group on one data directory never got an assignment when this was written (reported).
       */
      adapters.groupScan = async (db, expectedCount) => {
        let member = members.get(db)
        if (member === undefined) {
          const group = db.consumerGroup(`bench-${process.pid}`, { autoOffsetReset: 'earliest', maxPollRecords: SCAN_MAX_POLL_RECORDS })
          member = group.consumer({ topics: ['bench'] })
          if ((await member.poll({ maxRecords: 1, timeoutMs: 30_000 })).length === 0) throw new Error('the group member got no records in 30 s')
          members.set(db, member)
        }
        member.seekToBeginning([{ topic: 'bench', partition: 0 }])
        let count = 0
        let checksum = 0
        const start = now()
        while (count < expectedCount) {
          const records = await member.poll({ timeoutMs: 1000 })
          if (records.length === 0) break
          for (const r of records) {
            const v = r.value
            checksum = (checksum + ((((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) ^ v[v.length - 1]) | 0)) | 0
            count++
          }
        }
        return { ms: now() - start, count, checksum }
      }
    }
    adapters.consumer = async (db, topic, onValue) => {
      const consumer = db.consumer({ autoOffsetReset: 'earliest' })
      consumer.assign([{ topic, partition: 0 }])
      const running = consumer.run({
        eachMessage: async ({ message }) => {
          onValue(message.value)
        },
      })
      return {
        async close() {
          await consumer.close()
          await running
        },
      }
    }
  }
  return adapters
}

// kafkalite quickstart: open a data directory, make sure a topic exists, append a few records to a
// partition, read them back, close. Run with `npm run example` (it builds dist first); run it again and
// the records of earlier runs are still there, after the clean reopen.
import { fileURLToPath } from 'node:url'
import { Kafkalite, encodeRecordBatch } from 'kafkalite'

const dir = fileURLToPath(new URL('./data', import.meta.url))
const kl = await Kafkalite.open({ dir })
try {
  const report = kl.openReport
  console.log(`opened ${kl.dir} (${report.cleanShutdown ? 'clean shutdown' : 'new or recovered directory'})`)

  const topic = kl.listTopics().includes('greetings')
    ? kl.topic('greetings')
    : await kl.createTopic('greetings', { partitions: 2, retentionMs: 7 * 24 * 60 * 60 * 1000 })
  console.log(`topic ${topic.name}: id ${topic.topicId}, ${topic.partitionCount} partitions`)

  // A batch is Kafka's unit of storage: encode records into one, append it, and the partition assigns
  // the offsets. append returns once the bytes are in the OS; flush() waits until they are on disk,
  // and only then do readers see them (the high watermark, with the default durability 'fsync').
  const partition = topic.partition(0)
  const now = Date.now()
  const batch = encodeRecordBatch({
    records: ['hello', 'hallo', 'bonjour'].map((word, i) => ({
      key: Buffer.from(`greeting-${i}`),
      value: Buffer.from(word),
      headers: [{ key: 'lang', value: Buffer.from(['en', 'de', 'fr'][i]) }],
      timestamp: now,
    })),
  })
  const { baseOffset, lastOffset } = partition.append(batch)
  await partition.flush()
  console.log(`appended offsets ${baseOffset}..${lastOffset} to ${topic.name}-0`)

  // Read the last six records (this run's and the previous run's, if any).
  const from = Math.max(partition.logStartOffset, partition.highWatermark - 6)
  const { records, highWatermark } = partition.readRecords(from)
  for (const r of records) {
    const lang = r.headers.find((h) => h.key === 'lang')?.value?.toString()
    console.log(`  offset ${r.offset}  ${r.key?.toString()} = ${r.value?.toString()} (${lang})`)
  }
  console.log(`high watermark ${highWatermark}; the log holds ${partition.logEndOffset - partition.logStartOffset} records`)
} finally {
  await kl.close()
  console.log('closed')
}

// kafkalite quickstart: open a data directory, produce keyed records to a topic, consume them with a
// consumer group that commits its progress, and close. Run with `npm run example` (it builds dist
// first). Run it again: the records of earlier runs are still in the log, and the group resumes after
// what it committed, so it only reads this run's records.
import { fileURLToPath } from 'node:url'
import { Kafkalite } from 'kafkalite'

const dir = fileURLToPath(new URL('./data', import.meta.url))
// Kafka delays a new group's first rebalance by 3 s to let members gather; one member needs no wait.
const kl = await Kafkalite.open({ dir, groupInitialRebalanceDelayMs: 0 })
try {
  console.log(`opened ${kl.dir} (${kl.openReport.cleanShutdown ? 'clean shutdown' : 'new or recovered directory'})`)
  if (!kl.listTopics().includes('greetings')) {
    await kl.createTopic('greetings', { partitions: 2, retentionMs: 7 * 24 * 60 * 60 * 1000 })
  }

  // acks 'all' (the default): send resolves once the record is fsynced.
  const producer = kl.producer()
  const words = { en: 'hello', de: 'hallo', fr: 'bonjour' }
  for (const [lang, word] of Object.entries(words)) {
    const { partition, offset } = await producer.send('greetings', { key: lang, value: word, headers: { lang } })
    console.log(`produced ${lang}=${word} to greetings-${partition} at offset ${offset}`)
  }
  await producer.close()

  // A group member reads what the group has not committed yet (from the beginning on the first run).
  const group = kl.consumerGroup('quickstart', { autoOffsetReset: 'earliest' })
  const member = group.consumer({ topics: ['greetings'] })
  let seen = 0
  for (;;) {
    const records = await member.poll({ timeoutMs: 200 })
    if (records.length === 0) break
    for (const r of records) {
      console.log(`consumed greetings-${r.partition} offset ${r.offset}: ${r.key?.toString()} = ${r.value?.toString()}`)
      seen++
    }
    await member.commit() // after processing: at-least-once
  }
  const lag = group.describe().partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0)
  console.log(`consumed ${seen} records this run; the group's lag is now ${lag}`)
  await member.close()
} finally {
  await kl.close()
  console.log('closed')
}

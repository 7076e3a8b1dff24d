/**
 * Child process for the cross-process lock test: opens the data directory given as argv[2], writes and
 * fsyncs one record, prints `open <pid>`, then stays alive, holding the lock, until it is killed.
 */
import { Kafkalite } from '../../src/api/kafkalite'
import { encodeRecordBatch } from '../../src/codec/record-batch'

async function main(): Promise<void> {
  const kl = await Kafkalite.open({ dir: process.argv[2]! })
  const topic = kl.listTopics().includes('t') ? kl.topic('t') : await kl.createTopic('t')
  const p = topic.partition(0)
  p.append(encodeRecordBatch({ records: [{ key: null, value: Buffer.from(`from ${process.pid}`), timestamp: Date.now() }] }))
  await p.flush()
  process.stdout.write(`open ${process.pid}\n`)
  setInterval(() => {}, 1000)
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})

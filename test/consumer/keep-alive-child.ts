/**
 * Child process for the poll keep-alive test: opens an empty topic in the data directory argv[2], awaits
 * one poll with a 300 ms timeout and prints what came back, with nothing else keeping the process alive.
 */
import { Kafkalite } from '../../src/api/kafkalite'

async function main(): Promise<void> {
  const kl = await Kafkalite.open({ dir: process.argv[2]! })
  await kl.createTopic('t')
  const consumer = kl.consumer({ autoOffsetReset: 'earliest' })
  consumer.assign([{ topic: 't', partition: 0 }])
  const records = await consumer.poll({ timeoutMs: 300 })
  process.stdout.write(`polled ${records.length}\n`)
  await kl.close()
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})

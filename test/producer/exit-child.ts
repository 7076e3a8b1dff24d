/**
 * Child process for the idle-exit test: opens the data directory argv[2], sends one record with a
 * lingerMs far longer than the test (argv[3] = 'await' awaits the send and prints its offset, 'forget'
 * does not, 'chunks' awaits ten chunks of 10,000 sends in turn and prints the last offset), and then simply runs out of work without closing anything.
 */
import { Kafkalite } from '../../src/api/kafkalite'

async function main(): Promise<void> {
  const kl = await Kafkalite.open({ dir: process.argv[2]! })
  // 'chunks' uses durability 'none': no group-commit fsync runs after an append either.
  await kl.createTopic('t', process.argv[3] === 'chunks' ? { durability: 'none' } : {})
  const chunks = process.argv[3] === 'chunks'
  // 'chunks': acks 1, so no fsync is pending after an append and nothing but the producer's own timers
  // could keep the loop alive; ten awaited chunks of 10,000 sends, each ending in a lingering batch.
  const producer = chunks ? kl.producer({ acks: 1, lingerMs: 5, batchSize: 65536 }) : kl.producer({ lingerMs: 3_600_000 })
  if (chunks) {
    const value = Buffer.alloc(100, 1)
    let last = -1
    for (let chunk = 0; chunk < 10; chunk++) {
      const sends = Array.from({ length: 10_000 }, (_, i) => producer.send('t', { key: `key-${chunk}-${i}`, value }))
      last = (await Promise.all(sends)).at(-1)!.offset
    }
    process.stdout.write(`sent ${last}\n`)
    return
  }
  const sent = producer.send('t', { value: `from ${process.pid}` })
  if (process.argv[3] === 'await') {
    const { offset } = await sent
    process.stdout.write(`sent ${offset}\n`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})

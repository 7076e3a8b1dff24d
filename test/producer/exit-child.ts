/**
 * Child process for the idle-exit test: opens the data directory argv[2], sends one record with a
 * lingerMs far longer than the test (argv[3] = 'await' awaits the send and prints its offset, 'forget'
 * does not), and then simply runs out of work without closing anything.
 */
import { Kafkalite } from '../../src/api/kafkalite'

async function main(): Promise<void> {
  const kl = await Kafkalite.open({ dir: process.argv[2]! })
  await kl.createTopic('t')
  const sent = kl.producer({ lingerMs: 3_600_000 }).send('t', { value: `from ${process.pid}` })
  if (process.argv[3] === 'await') {
    const { offset } = await sent
    process.stdout.write(`sent ${offset}\n`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})

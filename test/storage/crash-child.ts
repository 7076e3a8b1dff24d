/**
 * Child process for the SIGKILL crash test: opens a partition log in fsync durability and appends
 * numbered records as fast as it can, printing `ack <lastOffset> <value>` for every append once its
 * fsync has completed. The parent kills it at a random moment.
 */
import { SystemClock } from '../../src/io/clock'
import { NodeFileSystem } from '../../src/io/node-fs'
import { encodeRecordBatch } from '../../src/codec/record-batch'
import { DEFAULT_LOG_CONFIG } from '../../src/storage/log-config'
import { PartitionLog } from '../../src/storage/partition-log'

async function main(): Promise<void> {
  const dir = process.argv[2]!
  const log = await PartitionLog.open({
    fs: new NodeFileSystem(),
    clock: new SystemClock(),
    dir,
    topic: 'crash',
    partition: 0,
    config: { ...DEFAULT_LOG_CONFIG, durability: 'fsync', segmentBytes: 64 * 1024, indexIntervalBytes: 512 },
  })
  process.stdout.write(`open ${log.logEndOffset}\n`)
  let n = log.logEndOffset
  for (;;) {
    const pending: Promise<void>[] = []
    for (let i = 0; i < 8; i++) {
      const value = `value-${n}`
      const records = Array.from({ length: 1 + (n % 5) }, (_, j) => ({ key: Buffer.from(`k${j}`), value: Buffer.from(`${value}-${j}`), timestamp: Date.now() }))
      n += records.length
      const { lastOffset, baseOffset } = log.append(encodeRecordBatch({ records }), { deepValidation: false })
      pending.push(log.flushUpTo(lastOffset).then(() => void process.stdout.write(`ack ${baseOffset} ${lastOffset}\n`)))
    }
    await Promise.all(pending)
  }
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e))
  process.exit(1)
})

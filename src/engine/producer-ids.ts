/**
 * Producer ids for idempotent producers, unique for the life of the data directory (Kafka's
 * ProducerIdManager, for one process).
 *
 * Invariant: every id handed out is below the `nextBlockStart` persisted in the root file, so a restart
 * never hands out an id again, whatever the crash. Ids are reserved in blocks of PRODUCER_ID_BLOCK_SIZE
 * (Kafka's block size), the block's end is written durably *before* the first id of the block is
 * returned, and the unused rest of a block is skipped after a restart, as in Kafka. One fsynced write
 * per thousand producers keeps allocation cheap without weakening the invariant.
 *
 * `kafkalite-producer-ids.json`, UTF-8 JSON, replaced atomically, not checksummed:
 *
 * | field          | type    | notes                                               |
 * |----------------|---------|-----------------------------------------------------|
 * | version        | 0       |                                                     |
 * | nextBlockStart | integer | first id of the next block; every id below is spent |
 *
 * An unreadable file refuses the open: guessing could reuse an id, and a reused id would make a
 * partition drop a new producer's batches as duplicates of an old one's.
 *
 * Concurrency: `allocate` awaits a write between reading and advancing the block, so it runs under a
 * mutex; concurrent callers get distinct ids in call order.
 */
import { CorruptRecordError, KafkaliteError } from '../errors/index'
import { joinPath, type FileSystem } from '../io/file-system'
import { Mutex } from '../util/mutex'

export const PRODUCER_IDS_FILE = 'kafkalite-producer-ids.json'
export const PRODUCER_ID_BLOCK_SIZE = 1000
const VERSION = 0

export interface ProducerIdAndEpoch {
  producerId: number
  producerEpoch: number
}

export class ProducerIdAllocator {
  private readonly mutex = new Mutex()
  private readonly path: string
  private nextId: number
  /** Exclusive end of the current block: ids below it are covered by the persisted file. */
  private blockEnd: number

  private constructor(
    private readonly fs: FileSystem,
    dir: string,
    nextBlockStart: number,
  ) {
    this.path = joinPath(dir, PRODUCER_IDS_FILE)
    this.nextId = nextBlockStart
    this.blockEnd = nextBlockStart
  }

  /** Reads the persisted block start of `dir` (0 for a new directory). */
  static load(fs: FileSystem, dir: string): ProducerIdAllocator {
    const path = joinPath(dir, PRODUCER_IDS_FILE)
    return new ProducerIdAllocator(fs, dir, fs.exists(path) ? decodeNextBlockStart(fs.readFile(path), path) : 0)
  }

  /** A new producer id with epoch 0. */
  allocate(): Promise<ProducerIdAndEpoch> {
    return this.mutex.run(async () => {
      if (this.nextId >= this.blockEnd) {
        const end = this.blockEnd + PRODUCER_ID_BLOCK_SIZE
        if (!Number.isSafeInteger(end)) throw new KafkaliteError('ERR_INVALID_STATE', 'Producer ids are exhausted', { path: this.path })
        await this.fs.writeFileAtomic(this.path, Buffer.from(JSON.stringify({ version: VERSION, nextBlockStart: end })))
        this.blockEnd = end
      }
      return { producerId: this.nextId++, producerEpoch: 0 }
    })
  }
}

function decodeNextBlockStart(bytes: Buffer, path: string): number {
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch {
    parsed = undefined
  }
  const r = parsed as { version?: unknown; nextBlockStart?: unknown } | undefined
  if (typeof r !== 'object' || r === null || r.version !== VERSION || !Number.isSafeInteger(r.nextBlockStart) || (r.nextBlockStart as number) < 0) {
    throw new CorruptRecordError(`Producer id file ${path} is invalid; refusing to guess (a reused producer id would drop records as duplicates)`, {
      path,
    })
  }
  return r.nextBlockStart as number
}

/**
 * The topic registry: which topics exist, their ids, partition counts and config overrides. It is the
 * one root-level file kafkalite adds to a Kafka log directory (Kafka keeps this in its metadata log;
 * a log dir must hold no directories but partitions, kafka-format.md §2.1, so ours is a file).
 *
 * `kafkalite-topics.json`, UTF-8 JSON:
 *
 * | field                 | type    | notes                                                        |
 * |-----------------------|---------|--------------------------------------------------------------|
 * | version               | 0       | bumped on any incompatible change                            |
 * | topics[]              | array   | sorted by name                                               |
 * | topics[].name         | string  | a valid topic name (config/validateTopicName)                |
 * | topics[].topicId      | string  | Kafka Uuid, base64url, 22 characters (topic-id.ts)           |
 * | topics[].partitions   | integer | ≥ 1                                                          |
 * | topics[].config       | object  | only the keys the user set; resolved against today's defaults |
 *
 * Only overrides are stored, so a change of a default in a later kafkalite version applies to every
 * topic that did not choose a value, as in Kafka.
 *
 * Crash safety: the file is replaced atomically (tmp + fsync + rename + dir fsync), and it is always
 * written *after* the partition directories it describes exist and *before* directories of a deleted
 * topic are removed. So after a crash, every registered partition has its directory, and a partition
 * directory that is not registered is debris of an interrupted create or delete (removed at open).
 * It has no checksum: it is small, written atomically, and a reader that finds it unparsable refuses to
 * open the directory rather than guess (guessing would lose config overrides such as retention).
 */
import { CorruptRecordError } from '../errors/index'
import { joinPath, type FileSystem } from '../io/file-system'
import { isTopicId, type TopicId } from './topic-id'

export const TOPIC_REGISTRY_FILE = 'kafkalite-topics.json'
const REGISTRY_VERSION = 0

/** Config overrides as the user gave them (already validated when they were set). */
export type TopicConfigOverrides = Readonly<Record<string, unknown>>

export interface TopicRecord {
  readonly name: string
  readonly topicId: TopicId
  readonly partitions: number
  readonly config: TopicConfigOverrides
}

export function encodeTopicRegistry(topics: readonly TopicRecord[]): Buffer {
  const sorted = [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const body = {
    version: REGISTRY_VERSION,
    topics: sorted.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions, config: t.config })),
  }
  return Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8')
}

/** Decodes the registry; throws CorruptRecordError naming the first problem. Names are checked by the caller. */
export function decodeTopicRegistry(bytes: Buffer, path: string): TopicRecord[] {
  const fail = (why: string): never => {
    throw new CorruptRecordError(`Topic registry ${path} is invalid: ${why}`, { path })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`)
  }
  if (!isPlainObject(parsed)) return fail('not an object')
  if (parsed.version !== REGISTRY_VERSION) return fail(`unsupported version ${JSON.stringify(parsed.version)}`)
  if (!Array.isArray(parsed.topics)) return fail('"topics" is not an array')
  const seen = new Set<string>()
  return parsed.topics.map((t: unknown, i: number): TopicRecord => {
    if (!isPlainObject(t)) return fail(`topics[${i}] is not an object`)
    const { name, topicId, partitions, config } = t
    if (typeof name !== 'string' || name.length === 0) return fail(`topics[${i}].name is not a non-empty string`)
    if (seen.has(name)) return fail(`topic ${JSON.stringify(name)} is listed twice`)
    seen.add(name)
    if (!isTopicId(topicId)) return fail(`topic ${JSON.stringify(name)} has an invalid topicId`)
    if (!Number.isSafeInteger(partitions) || (partitions as number) < 1) return fail(`topic ${JSON.stringify(name)} has an invalid partition count`)
    if (!isPlainObject(config)) return fail(`topic ${JSON.stringify(name)} has no config object`)
    return { name, topicId, partitions: partitions as number, config: Object.freeze({ ...config }) }
  })
}

/** Reads the registry of `dir`; a directory without one (a new data directory) has no topics. */
export function readTopicRegistry(fs: FileSystem, dir: string): TopicRecord[] {
  const path = joinPath(dir, TOPIC_REGISTRY_FILE)
  if (!fs.exists(path)) return []
  return decodeTopicRegistry(fs.readFile(path), path)
}

export function writeTopicRegistry(fs: FileSystem, dir: string, topics: readonly TopicRecord[]): Promise<void> {
  return fs.writeFileAtomic(joinPath(dir, TOPIC_REGISTRY_FILE), encodeTopicRegistry(topics))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

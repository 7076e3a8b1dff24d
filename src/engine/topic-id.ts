/**
 * Topic ids and the `partition.metadata` file that records one in each partition directory
 * (kafka-format.md §2.11; Kafka `Uuid`, `PartitionMetadataFile`).
 *
 * A topic id is a Kafka Uuid: 16 random bytes written as base64url without padding (22 characters).
 * It tells two incarnations of a topic name apart: a directory whose `partition.metadata` names another
 * id belongs to a deleted topic of the same name, not to the live one.
 *
 * `partition.metadata` format, UTF-8, exactly (no trailing newline):
 *
 * | line | content                | notes                                   |
 * |------|------------------------|-----------------------------------------|
 * | 1    | `version: 0`           | the only version Kafka has written      |
 * | 2    | `topic_id: <Uuid>`     | base64url, 22 characters, never all-zero |
 *
 * Kafka's reader takes lines, so a trailing newline is tolerated on read. It is not checksummed; it is written atomically (tmp + fsync + rename) and never rebuilt, because the
 * registry holds the same id.
 */
import { randomBytes } from 'node:crypto'
import { CorruptRecordError } from '../errors/index'

export type TopicId = string

export const PARTITION_METADATA_FILE = 'partition.metadata'

const UUID_BYTES = 16
const UUID_CHARS = 22
const UUID_PATTERN = /^[A-Za-z0-9_-]{22}$/
/** Kafka's reserved ids: ZERO_UUID (no id) and METADATA_TOPIC_ID (the KRaft metadata topic, 0…01). */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'

/**
 * A fresh topic id. Like Kafka's `Uuid.randomUuid`, it never returns a reserved id or one whose string
 * starts with '-' (which command-line tools would read as an option).
 */
export function randomTopicId(): TopicId {
  for (;;) {
    const id = randomBytes(UUID_BYTES).toString('base64url')
    if (id !== ZERO_UUID && id !== METADATA_TOPIC_ID && !id.startsWith('-')) return id
  }
}

export function isTopicId(value: unknown): value is TopicId {
  return typeof value === 'string' && value.length === UUID_CHARS && UUID_PATTERN.test(value) && value !== ZERO_UUID
}

export function encodePartitionMetadata(topicId: TopicId): Buffer {
  return Buffer.from(`version: 0\ntopic_id: ${topicId}`, 'utf8')
}

/** The topic id in a `partition.metadata` file; throws CorruptRecordError for anything but version 0 with a valid id. */
export function decodePartitionMetadata(bytes: Buffer, path: string): TopicId {
  const m = /^version: 0\ntopic_id: (\S+)\n?$/.exec(bytes.toString('utf8'))
  if (m === null || !isTopicId(m[1])) {
    throw new CorruptRecordError(`${path} is not a version 0 partition.metadata file with a valid topic id`, { path })
  }
  return m[1]
}

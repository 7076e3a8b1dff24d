/**
 * Kafka's text checkpoint files (kafka-format.md §2.10; Kafka `CheckpointFile`, `OffsetCheckpointFile`,
 * `LeaderEpochCheckpointFile`).
 *
 * Format, UTF-8, one item per line, each line ended by '\n':
 *
 * | line   | content                     | notes                                                   |
 * |--------|-----------------------------|---------------------------------------------------------|
 * | 1      | version                     | always `0` for both kinds below                         |
 * | 2      | entry count                 | must equal the number of entry lines that follow        |
 * | 3..    | one entry per line          | fields separated by whitespace                          |
 *
 * | kind                                        | entry line                    | file names                       |
 * |---------------------------------------------|-------------------------------|----------------------------------|
 * | offset checkpoint                           | `<topic> <partition> <offset>` | recovery-point-offset-checkpoint, log-start-offset-checkpoint, replication-offset-checkpoint, cleaner-offset-checkpoint |
 * | leader epoch checkpoint                     | `<epoch> <startOffset>`       | leader-epoch-checkpoint (partition dir) |
 *
 * There is no checksum. Kafka makes a checkpoint atomic by writing `<file>.tmp`, fsyncing it and renaming it
 * over the old file; that is the storage layer's job. A checkpoint is never rebuilt from the log: when one is
 * unreadable the caller reports it and falls back to full recovery, which is why the decoder is as strict as
 * Kafka's reader and throws a CorruptRecordError that names the problem.
 *
 * Reader rules, each taken from Kafka's `CheckpointReadBuffer` and entry formatters:
 * - Lines end at '\n', '\r' or "\r\n" (Java `BufferedReader.readLine`); a final line without a terminator
 *   still counts.
 * - An empty file, or a file holding only the version line, reads as no entries (Kafka creates checkpoint
 *   files empty and reads them so).
 * - The version and the count are Java `Integer.parseInt` numbers: an optional sign and ASCII digits, nothing
 *   else, not even surrounding spaces. A negative count is rejected.
 * - An entry is split on runs of Java's `\s` (space, \t, \n, \x0B, \f, \r); like Java's `String.split`, a
 *   leading separator yields an empty first field and trailing separators are dropped. The field count must be
 *   exact.
 * - Partitions and epochs are int32; offsets are int64 (`Long.parseLong`). kafkalite additionally rejects
 *   offsets beyond 2^53 - 1, which a JS number cannot hold (util/types).
 * - Invalid UTF-8 is rejected, as Java's reader does, and a byte-order mark is not skipped.
 */
import { CorruptRecordError } from '../errors/index'
import { assert } from '../util/assert'
import type { Offset } from '../util/types'

/** The only checkpoint version Kafka has ever written. */
export const CHECKPOINT_VERSION = 0

export interface OffsetCheckpointEntry {
  readonly topic: string
  readonly partition: number
  readonly offset: Offset
}

export interface LeaderEpochEntry {
  readonly epoch: number
  readonly startOffset: Offset
}

/** Encodes `recovery-point-offset-checkpoint` and its siblings: `topic partition offset` lines. */
export function encodeOffsetCheckpoint(entries: readonly OffsetCheckpointEntry[]): Buffer {
  return encodeCheckpoint(
    entries.map((e) => {
      assert(e.topic.length > 0 && !JAVA_WHITESPACE.test(e.topic), `checkpoint topic ${JSON.stringify(e.topic)} is empty or contains whitespace`)
      assertInt32(e.partition, 'partition')
      assertOffset(e.offset, 'offset')
      return `${e.topic} ${e.partition} ${e.offset}`
    }),
  )
}

/** Decodes an offset checkpoint; throws CorruptRecordError naming the line and the problem. */
export function decodeOffsetCheckpoint(buf: Uint8Array): OffsetCheckpointEntry[] {
  return decodeCheckpoint(buf, 'offset checkpoint', 3, (fields, line) => ({
    topic: fields[0]!,
    partition: parseJavaInt(fields[1]!, 'partition', line),
    offset: parseJavaLongAsOffset(fields[2]!, 'offset', line),
  }))
}

/** Encodes `leader-epoch-checkpoint`: `epoch startOffset` lines. */
export function encodeLeaderEpochCheckpoint(entries: readonly LeaderEpochEntry[]): Buffer {
  return encodeCheckpoint(
    entries.map((e) => {
      assertInt32(e.epoch, 'epoch')
      assertOffset(e.startOffset, 'startOffset')
      return `${e.epoch} ${e.startOffset}`
    }),
  )
}

/** Decodes a leader epoch checkpoint; throws CorruptRecordError naming the line and the problem. */
export function decodeLeaderEpochCheckpoint(buf: Uint8Array): LeaderEpochEntry[] {
  return decodeCheckpoint(buf, 'leader epoch checkpoint', 2, (fields, line) => ({
    epoch: parseJavaInt(fields[0]!, 'epoch', line),
    startOffset: parseJavaLongAsOffset(fields[1]!, 'startOffset', line),
  }))
}

function encodeCheckpoint(lines: readonly string[]): Buffer {
  const body = [String(CHECKPOINT_VERSION), String(lines.length), ...lines].map((l) => `${l}\n`).join('')
  return Buffer.from(body, 'utf8')
}

/** Java's `\s` class, which unlike JavaScript's does not include Unicode spaces. */
const JAVA_WHITESPACE = /[ \t\n\x0B\f\r]/
const JAVA_WHITESPACE_RUN = /[ \t\n\x0B\f\r]+/
const JAVA_INTEGER = /^[+-]?[0-9]+$/
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function decodeCheckpoint<T>(
  buf: Uint8Array,
  kind: string,
  fieldCount: number,
  parseEntry: (fields: string[], line: number) => T,
): T[] {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf)
  } catch (e) {
    throw new CorruptRecordError(`${kind}: not valid UTF-8`, { kind }, e)
  }
  const lines = readLines(text)
  if (lines.length === 0) return []

  const version = parseJavaInt(lines[0]!, 'version', 1)
  if (version !== CHECKPOINT_VERSION) {
    throw new CorruptRecordError(`${kind}: unrecognised version ${version} on line 1, expected ${CHECKPOINT_VERSION}`, {
      kind,
      line: 1,
      version,
    })
  }
  if (lines.length === 1) return []

  const expected = parseJavaInt(lines[1]!, 'entry count', 2)
  if (expected < 0) throw new CorruptRecordError(`${kind}: negative entry count ${expected} on line 2`, { kind, line: 2 })

  const entries: T[] = []
  for (let i = 2; i < lines.length; i++) {
    const lineNumber = i + 1
    const fields = splitJava(lines[i]!)
    if (fields.length !== fieldCount) {
      throw new CorruptRecordError(
        `${kind}: malformed line ${lineNumber}: expected ${fieldCount} whitespace-separated fields, found ${fields.length}: ${JSON.stringify(lines[i])}`,
        { kind, line: lineNumber },
      )
    }
    entries.push(parseEntry(fields, lineNumber))
  }
  if (entries.length !== expected) {
    throw new CorruptRecordError(`${kind}: line 2 announces ${expected} entries but the file holds ${entries.length}`, {
      kind,
      expected,
      found: entries.length,
    })
  }
  return entries
}

/** Splits like Java's `BufferedReader.readLine` loop: '\n', '\r' and "\r\n" end a line. */
function readLines(text: string): string[] {
  if (text.length === 0) return []
  const lines = text.split(/\r\n|\r|\n/)
  // A terminator at the very end does not start another line.
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** Java's `Pattern.split`: a leading separator gives an empty first field; trailing empty fields are dropped. */
function splitJava(line: string): string[] {
  const fields = line.split(JAVA_WHITESPACE_RUN)
  while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop()
  return fields
}

function parseJavaInt(text: string, field: string, line: number): number {
  if (JAVA_INTEGER.test(text)) {
    const n = Number(text)
    if (n >= INT32_MIN && n <= INT32_MAX) return n
  }
  throw new CorruptRecordError(`malformed ${field} ${JSON.stringify(text)} on checkpoint line ${line}: expected an int32`, {
    field,
    line,
  })
}

function parseJavaLongAsOffset(text: string, field: string, line: number): Offset {
  if (!JAVA_INTEGER.test(text) || BigInt(text) < INT64_MIN || BigInt(text) > INT64_MAX) {
    throw new CorruptRecordError(`malformed ${field} ${JSON.stringify(text)} on checkpoint line ${line}: expected an int64`, {
      field,
      line,
    })
  }
  const value = BigInt(text)
  if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptRecordError(`${field} ${text} on checkpoint line ${line} is beyond the 2^53 - 1 offsets kafkalite supports`, {
      field,
      line,
    })
  }
  return Number(value)
}

function assertInt32(n: number, what: string): void {
  assert(Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX, `checkpoint ${what} ${n} is not an int32`)
}

function assertOffset(n: number, what: string): void {
  assert(Number.isSafeInteger(n), `checkpoint ${what} ${n} is not a safe integer`)
}

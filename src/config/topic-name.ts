/**
 * Topic name rules, as Kafka's `Topic.validate` applies them. A topic name becomes part of a directory name
 * (`<topic>-<partition>`), so the rules are also what keeps a name safe on disk: ASCII letters, digits, '.',
 * '_' and '-' only, so no path separator; not "." or ".."; at most 249 characters, which leaves room for
 * "-<partition>" and Kafka's "-delete" / "-future" suffixes within a 255-byte file name.
 *
 * Not enforced, as in Kafka, where it is only a warning: '.' and '_' are interchangeable in Kafka's metric
 * names, so "a.b" and "a_b" are distinct topics whose metrics collide. kafkalite has no such metrics, but a
 * data directory may be handed to a Kafka broker later; `hasCollisionChars` lets a caller warn.
 */
import { KafkaliteError } from '../errors/index'

export const MAX_TOPIC_NAME_LENGTH = 249
const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/

/** Throws KafkaliteError ERR_INVALID_TOPIC naming the problem, in the order Kafka checks. */
export function validateTopicName(name: string): void {
  const problem = topicNameProblem(name)
  if (problem !== null) throw new KafkaliteError('ERR_INVALID_TOPIC', `Topic name is invalid: ${problem}`, { topic: name })
}

/** The reason `name` is not a valid topic name, or null when it is. */
export function topicNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `expected a string, got ${typeof name}`
  if (name.length === 0) return 'the empty string is not allowed'
  if (name === '.') return "'.' is not allowed"
  if (name === '..') return "'..' is not allowed"
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `the length of '${name}' (${name.length}) is longer than the max allowed length ${MAX_TOPIC_NAME_LENGTH}`
  }
  if (!LEGAL_NAME.test(name)) return `'${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`
  return null
}

/** True when the name contains '.' or '_', the characters that collide in Kafka's metric names. */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_')
}

/** True when the names are the same once every '.' is read as '_': such topics collide in Kafka's metric names. */
export function topicNamesCollide(a: string, b: string): boolean {
  return a.replace(/\./g, '_') === b.replace(/\./g, '_')
}

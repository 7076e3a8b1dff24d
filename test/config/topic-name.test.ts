/** Topic names follow Kafka's Topic.validate: the same rules, checked in the same order, with the same reasons. */
import { describe, expect, it } from 'vitest'
import { hasCollisionChars, topicNamesCollide, validateTopicName } from '../../src/config/topic-name'
import { isKafkaliteError, type KafkaliteError } from '../../src/errors/index'

function invalid(name: unknown): KafkaliteError {
  try {
    validateTopicName(name as string)
  } catch (e) {
    expect(isKafkaliteError(e, 'ERR_INVALID_TOPIC')).toBe(true)
    return e as KafkaliteError
  }
  throw new Error(`expected ${JSON.stringify(name)} to be rejected`)
}

describe('topic name', () => {
  it.each(['orders', 'a', 'A-z_0.9', '__consumer_offsets', '...', '-', 'x'.repeat(249)])('accepts %j', (name) => {
    expect(() => validateTopicName(name)).not.toThrow()
  })

  it('rejects the empty string', () => {
    expect(invalid('').message).toBe('Topic name is invalid: the empty string is not allowed')
  })

  it('rejects "." and ".."', () => {
    expect(invalid('.').message).toBe("Topic name is invalid: '.' is not allowed")
    expect(invalid('..').message).toBe("Topic name is invalid: '..' is not allowed")
  })

  it('rejects names longer than 249 characters, giving the length', () => {
    expect(invalid('x'.repeat(250)).message).toMatch(/\(250\) is longer than the max allowed length 249$/)
  })

  it.each(['a/b', 'a b', 'tópico', 'a\\b', 'a:b', 'a\nb', '😀'])('rejects characters outside [a-zA-Z0-9._-]: %j', (name) => {
    const e = invalid(name)
    expect(e.message).toMatch(/contains one or more characters other than ASCII alphanumerics, '\.', '_' and '-'$/)
    expect(e.topic).toBe(name)
  })

  it('rejects a value that is not a string', () => {
    expect(invalid(42).message).toMatch(/expected a string, got number/)
  })

  it('reports, without enforcing, the "." / "_" metric-name collision Kafka warns about', () => {
    expect(hasCollisionChars('a.b')).toBe(true)
    expect(hasCollisionChars('ab')).toBe(false)
    expect(topicNamesCollide('a.b', 'a_b')).toBe(true)
    expect(topicNamesCollide('a.b', 'a-b')).toBe(false)
    expect(() => validateTopicName('a.b')).not.toThrow()
    expect(() => validateTopicName('a_b')).not.toThrow()
  })
})

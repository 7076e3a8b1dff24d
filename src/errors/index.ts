/**
 * Typed errors with stable codes. Callers switch on `code`, never on message text or class identity
 * (class identity breaks when two copies of the library are loaded). Context fields (topic, partition,
 * offset) are set wherever they apply; a lower-level cause is chained through `cause`.
 *
 * Our own bugs are not errors of this kind: they are assertion failures (see util/assert).
 */

export type ErrorCode =
  | 'ERR_CORRUPT_RECORD'
  | 'ERR_OFFSET_OUT_OF_RANGE'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_RECORD_TOO_LARGE'
  | 'ERR_DECOMPRESSION_LIMIT'
  | 'ERR_UNSUPPORTED_COMPRESSION'
  | 'ERR_CLOSED'
  | 'ERR_LOCKED'
  | 'ERR_IO'
  | 'ERR_NO_SPACE'
  | 'ERR_UNKNOWN_TOPIC_OR_PARTITION'
  | 'ERR_TOPIC_ALREADY_EXISTS'
  | 'ERR_INVALID_TOPIC'
  | 'ERR_INVALID_PARTITIONS'
  | 'ERR_OUT_OF_ORDER_SEQUENCE'
  | 'ERR_INVALID_PRODUCER_EPOCH'
  | 'ERR_BUFFER_EXHAUSTED'
  | 'ERR_TIMEOUT'
  | 'ERR_ILLEGAL_GENERATION'
  | 'ERR_UNKNOWN_MEMBER'
  | 'ERR_REBALANCE_IN_PROGRESS'
  | 'ERR_NOT_ASSIGNED'
  | 'ERR_INVALID_STATE'
  | 'ERR_FENCED_INSTANCE_ID'
  | 'ERR_NON_EMPTY_GROUP'
  | 'ERR_GROUP_ID_NOT_FOUND'
  | 'ERR_INCONSISTENT_GROUP_PROTOCOL'
  | 'ERR_GROUP_MAX_SIZE_REACHED'

export interface ErrorContext {
  topic?: string
  partition?: number
  offset?: number
  [key: string]: unknown
}

export class KafkaliteError extends Error {
  readonly code: ErrorCode
  readonly topic?: string
  readonly partition?: number
  readonly offset?: number
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'KafkaliteError'
    this.code = code
    this.context = context
    if (context.topic !== undefined) this.topic = context.topic
    if (context.partition !== undefined) this.partition = context.partition
    if (context.offset !== undefined) this.offset = context.offset
  }
}

export class CorruptRecordError extends KafkaliteError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super('ERR_CORRUPT_RECORD', message, context, cause)
    this.name = 'CorruptRecordError'
  }
}

export class OffsetOutOfRangeError extends KafkaliteError {
  constructor(message: string, context: ErrorContext = {}) {
    super('ERR_OFFSET_OUT_OF_RANGE', message, context)
    this.name = 'OffsetOutOfRangeError'
  }
}

export class InvalidConfigError extends KafkaliteError {
  constructor(key: string, value: unknown, allowed: string, context: ErrorContext = {}) {
    super('ERR_INVALID_CONFIG', `Invalid value ${describeValue(value)} for ${key}: ${allowed}`, {
      ...context,
      key,
      value,
      allowed,
    })
    this.name = 'InvalidConfigError'
  }
}

export class InvalidArgumentError extends KafkaliteError {
  constructor(message: string, context: ErrorContext = {}) {
    super('ERR_INVALID_ARGUMENT', message, context)
    this.name = 'InvalidArgumentError'
  }
}

export class RecordTooLargeError extends KafkaliteError {
  constructor(message: string, context: ErrorContext = {}) {
    super('ERR_RECORD_TOO_LARGE', message, context)
    this.name = 'RecordTooLargeError'
  }
}

export class ClosedError extends KafkaliteError {
  constructor(what: string, context: ErrorContext = {}) {
    super('ERR_CLOSED', `${what} is closed`, context)
    this.name = 'ClosedError'
  }
}

export class LockedError extends KafkaliteError {
  constructor(dir: string, holder: string) {
    super('ERR_LOCKED', `Data directory ${dir} is locked by ${holder}`, { dir, holder })
    this.name = 'LockedError'
  }
}

/**
 * A file-system failure translated at the io boundary. ENOSPC becomes ERR_NO_SPACE so that callers can
 * tell "free some disk" from "the disk is failing"; everything else is ERR_IO with the errno in context.
 */
export class IoError extends KafkaliteError {
  readonly errno: string
  constructor(op: string, path: string, errno: string, cause?: unknown, context: ErrorContext = {}) {
    super(errno === 'ENOSPC' ? 'ERR_NO_SPACE' : 'ERR_IO', `${op} ${path} failed: ${errno}`, { ...context, op, path, errno }, cause)
    this.name = 'IoError'
    this.errno = errno
  }

  /** The same failure, with the topic, partition and offset of the operation it broke. */
  withContext(context: ErrorContext): IoError {
    const { op, path } = this.context as { op: string; path: string }
    return new IoError(op, path, this.errno, this.cause, { ...this.context, ...context })
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

export function isKafkaliteError(e: unknown, code?: ErrorCode): e is KafkaliteError {
  return e instanceof Error && typeof (e as KafkaliteError).code === 'string' && (code === undefined || (e as KafkaliteError).code === code)
}

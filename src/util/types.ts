/**
 * Offsets and byte positions are both plain numbers at run time; these aliases keep them apart in
 * signatures. Offsets are Kafka int64 values kept as JS numbers, which is exact up to 2^53 - 1
 * (about 9e15 records, beyond any log this library will hold); the codec asserts the bound.
 */
/** A logical record offset in a partition. */
export type Offset = number
/** A byte position inside a file. */
export type Position = number
/** Milliseconds since the epoch (or a duration in ms where the name says `Ms`). */
export type TimestampMs = number

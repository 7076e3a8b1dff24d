/**
 * How the measurements drive the public Producer and consumer. Each adapter exists only when the API it
 * needs is in the built package; a measurement without its adapter reports "not yet available".
 *
 *   producer(db, { acks, lingerMs? }) → { send(records: {key, value}[]): Promise, flush(): Promise, close(): Promise }
 *   consumer(db, topic, onValue(value: Buffer)) → Promise<{ close(): Promise }>   (from offset 0, in order)
 *   consumerScan(db, topic, expectedCount) → Promise<{ ms, count, checksum }>    (materialised records)
 */
export function makeAdapters(kl, has) {
  const adapters = {}
  return adapters
}

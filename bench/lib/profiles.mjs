/**
 * Sizes. `full` is sized to finish in under 10 minutes on a 2-core machine; `smoke` runs everything tiny
 * (CI: seconds, no timing asserted). Durable (fsync) runs are sized by fsync count, not by records,
 * because the floor fsyncs after every batch.
 */
export const PROFILES = {
  full: {
    reps: 5,
    append: { 100: 1_000_000, 1000: 200_000 },
    appendDurable: { 100: 100_000, 1000: 16_000 },
    scan: { 100: 1_000_000 },
    // The first `warmup` records of each run are sent and verified but not sampled (both sides).
    tail: { rate: 2000, count: 12_000, warmup: 2_000, reps: 3 },
    openRss: { small: 1_000_000, large: 10_000_000, openReps: 3 },
    compaction: { records: 1_000_000, keys: 100_000, reps: 3, segmentBytes: 8 * 1024 * 1024 },
  },
  smoke: {
    reps: 1,
    append: { 100: 2_000, 1000: 500 },
    appendDurable: { 100: 300, 1000: 50 },
    scan: { 100: 5_000 },
    tail: { rate: 2000, count: 100, warmup: 10, reps: 1 },
    openRss: { small: 10_000, large: 30_000, openReps: 1 },
    compaction: { records: 20_000, keys: 500, reps: 1, segmentBytes: 256 * 1024 },
  },
}

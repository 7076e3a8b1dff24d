/** Randomized inputs for the group tests: mulberry32 (test/helpers/random.ts) with int, pick and shuffle. The seed is printed by the caller. */
import { mulberry32 } from '../helpers/random'

export interface Rng {
  readonly seed: number
  next(): number
  int(maxExclusive: number): number
  pick<T>(items: readonly T[]): T
  shuffle<T>(items: readonly T[]): T[]
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed)
  const int = (max: number) => Math.floor(next() * max)
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    shuffle: (items) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    },
  }
}

/** The seed for a randomized test: KAFKALITE_SEED if set, else a fresh one. Printed so a failure can be replayed. */
export function testSeed(name: string): number {
  const fromEnv = process.env.KAFKALITE_SEED
  const seed = fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0
  console.log(`[seed] ${name}: KAFKALITE_SEED=${seed}`)
  return seed
}

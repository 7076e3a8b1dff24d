/** The measurement groups, in the order they run. */
import { measureAppends } from './append.mjs'
import { measureCompaction } from './compaction.mjs'
import { measureOpenAndRss } from './open-rss.mjs'
import { measureScans } from './scan.mjs'
import { measureTail } from './tail.mjs'

const appendGroup = (valueBytes, acks) => ({
  name: `append-${valueBytes}-${acks}`,
  run: (ctx) =>
    measureAppends(ctx, {
      valueBytes,
      acks,
      count: (acks === 'all' ? ctx.profile.appendDurable : ctx.profile.append)[valueBytes],
      reps: ctx.profile.reps,
    }),
})

export const GROUPS = [
  appendGroup(100, 1),
  appendGroup(1000, 1),
  appendGroup(100, 'all'),
  appendGroup(1000, 'all'),
  { name: 'scan', run: (ctx) => measureScans(ctx, { valueBytes: 100, count: ctx.profile.scan[100], reps: ctx.profile.reps }) },
  { name: 'tail-fsync', run: (ctx) => measureTail(ctx, 'fsync') },
  { name: 'tail-none', run: (ctx) => measureTail(ctx, 'none') },
  { name: 'compaction', run: (ctx) => measureCompaction(ctx) },
  { name: 'open-rss', run: (ctx) => measureOpenAndRss(ctx) },
]

/**
 * What opening a data directory found: whether the last close was clean, and every piece of damage that
 * recovery found and repaired, per partition. Empty problem lists after a clean open of a healthy
 * directory; anything else is worth logging.
 */
import type { RecoveryReport } from '../storage/recovery'

export interface PartitionOpenReport extends Readonly<RecoveryReport> {
  readonly topic: string
  readonly partition: number
}

export interface OpenReport {
  /** The previous process closed the directory cleanly (the `.kafka_cleanshutdown` marker was present). */
  readonly cleanShutdown: boolean
  /** Problems in the directory's root: unreadable checkpoints, removed debris, mismatched metadata. */
  readonly problems: readonly string[]
  /** One entry per partition, in topic and partition order. */
  readonly partitions: readonly PartitionOpenReport[]
}

/** A frozen copy of each log's report as it stood at open (a live report keeps growing as indexes are checked). */
export function buildOpenReport(
  cleanShutdown: boolean,
  problems: readonly string[],
  logs: Iterable<{ topic: string; partition: number; recoveryReport: RecoveryReport }>,
): OpenReport {
  const partitions = [...logs]
    .map((log) => Object.freeze({ topic: log.topic, partition: log.partition, ...log.recoveryReport, problems: Object.freeze([...log.recoveryReport.problems]) as string[] }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  return Object.freeze({ cleanShutdown, problems: Object.freeze([...problems]), partitions: Object.freeze(partitions) })
}

/** True when the open found nothing to repair. */
export function isCleanOpen(report: OpenReport): boolean {
  return report.problems.length === 0 && report.partitions.every((p) => p.problems.length === 0)
}

/**
 * The layout of the data directory's root, beyond what storage owns: partition directories, Kafka's
 * `-delete` directories, and the rule for directories that the registry does not know.
 *
 *   <topic>-<partition>/                         a live partition (storage/file-names)
 *   <topic>-<partition>.<uuid>-delete/           a partition being deleted (Kafka `LocalLog.logDeleteDirName`)
 *
 * Deleting a directory tree is not atomic, so a partition is first renamed to a `-delete` name (atomic)
 * and then removed. A crash in between leaves a `-delete` directory, which the next open removes;
 * a half-removed tree never looks like a live partition.
 */
import { randomUUID } from 'node:crypto'
import { joinPath, type FileSystem } from '../io/file-system'
import { parsePartitionDirName, partitionDirName } from '../storage/file-names'
import { PARTITION_METADATA_FILE } from './topic-id'

/** Kafka's `DeleteDirPattern`. */
const DELETE_DIR_PATTERN = /^\S+-\S+\.\S+-delete$/
const MAX_DIR_NAME_LENGTH = 255

/** Kafka's `logDeleteDirName`: the topic is cut so the whole name fits in 255 characters. */
export function deleteDirName(topic: string, partition: number): string {
  const suffix = `.${randomUUID().replaceAll('-', '')}-delete`
  const prefixLength = Math.min(topic.length, MAX_DIR_NAME_LENGTH - (suffix.length + 1 + String(partition).length))
  return `${topic.slice(0, prefixLength)}-${partition}${suffix}`
}

export function partitionDir(root: string, topic: string, partition: number): string {
  return joinPath(root, partitionDirName(topic, partition))
}

/** Renames a partition directory to a `-delete` name, then removes it (see the module comment). */
export async function deletePartitionDir(fs: FileSystem, root: string, topic: string, partition: number): Promise<void> {
  const live = partitionDir(root, topic, partition)
  if (!fs.exists(live)) return
  const doomed = joinPath(root, deleteDirName(topic, partition))
  fs.rename(live, doomed)
  await fs.syncDir(root)
  fs.rmrf(doomed)
}

export interface RootScan {
  /** `-delete` directories left by an interrupted delete. */
  deleteDirs: string[]
  /** Partition directories that the registry does not list and that kafkalite created (see `isOurs`). */
  strayPartitionDirs: { name: string; topic: string; partition: number }[]
  /** Partition-like directories that the registry does not list and that kafkalite did not create. */
  foreignDirs: string[]
}

/**
 * Classifies the root's directories against the registry. A partition directory that is not registered
 * is ours to remove only if kafkalite made it: it holds `partition.metadata` (the first file written into
 * a new partition directory, or its `.tmp` if the create stopped mid-write) or is empty. Anything else is left alone and reported.
 */
export function scanRoot(fs: FileSystem, root: string, isRegistered: (topic: string, partition: number) => boolean): RootScan {
  const scan: RootScan = { deleteDirs: [], strayPartitionDirs: [], foreignDirs: [] }
  for (const name of fs.readdir(root)) {
    const path = joinPath(root, name)
    if (!fs.stat(path).isDirectory) continue
    if (DELETE_DIR_PATTERN.test(name)) {
      scan.deleteDirs.push(name)
      continue
    }
    const parsed = parsePartitionDirName(name)
    if (parsed === undefined || isRegistered(parsed.topic, parsed.partition)) continue
    const entries = fs.readdir(path)
    const ours = entries.length === 0 || entries.includes(PARTITION_METADATA_FILE) || entries.includes(`${PARTITION_METADATA_FILE}.tmp`)
    if (ours) scan.strayPartitionDirs.push({ name, ...parsed })
    else scan.foreignDirs.push(name)
  }
  return scan
}

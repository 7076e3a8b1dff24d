export * from './file-system'
export * from './clock'
export { NodeFileSystem } from './node-fs'
export {
  MemoryFileSystem,
  SimulatedCrash,
  type CrashOptions,
  type Fault,
  type FaultOp,
  type MemoryFileSystemOptions,
  type MemoryFsStats,
} from './memory-fs'
export { CountingFileSystem, DEFAULT_COUNTED_SUFFIXES, type SuffixCounts } from './counting-fs'
export { readWholeFile, writeFileAtomicWith } from './whole-file'
export { acquireDirectoryLock, processIsAlive, LOCK_FILE_NAME, type DirectoryLock, type LockHolder } from './lock'

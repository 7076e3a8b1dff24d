/**
 * What survives a crash of MemoryFileSystem, as pure functions over its inode trees (see memory-node.ts
 * for the durability model they read).
 */
import { DirNode, FileNode, type Node } from './memory-node'

/** A machine crash: the durable entries and durable content, as a fresh tree in which everything is durable. */
export function survivingTree(root: DirNode, random: ((bound: number) => number) | undefined): DirNode {
  return survivingDir(root, random, new Set())
}

/** A process crash: a deep copy of the current and the durable state. */
export function cloneTree(root: DirNode): DirNode {
  return cloneDir(root, new Map())
}

/**
 * The durable tree under `dir`, as a fresh tree in which everything is durable. Entries are visited in
 * name order so that a seed always tears the same files the same way. `onPath` guards against a cycle
 * that only the durable entries form (directories renamed into each other, synced on one side only).
 */
function survivingDir(dir: DirNode, random: ((bound: number) => number) | undefined, onPath: Set<DirNode>): DirNode {
  const out = new DirNode(dir.mtimeMs)
  onPath.add(dir)
  for (const name of [...dir.durableEntries.keys()].sort()) {
    const node = dir.durableEntries.get(name)!
    if (node.kind === 'dir') {
      if (!onPath.has(node)) out.entries.set(name, survivingDir(node, random, onPath))
      continue
    }
    out.entries.set(name, new FileNode(survivingContent(node, random), node.mtimeMs))
  }
  onPath.delete(dir)
  out.syncEntries()
  return out
}

function survivingContent(file: FileNode, random: ((bound: number) => number) | undefined): Uint8Array {
  const durable = file.durableContent()
  const unsynced = file.length - file.durableLength
  if (random === undefined || unsynced <= 0) return durable
  const kept = random(unsynced + 1)
  const out = new Uint8Array(durable.length + kept)
  out.set(durable)
  out.set(file.bytes(file.durableLength, file.durableLength + kept), durable.length)
  return out
}

/** A deep copy preserving identity: a node reachable from both current and durable entries is copied once. */
function cloneDir(dir: DirNode, copies: Map<Node, Node>): DirNode {
  const out = new DirNode(dir.mtimeMs)
  copies.set(dir, out)
  function copy(node: Node): Node {
    const known = copies.get(node)
    if (known !== undefined) return known
    if (node.kind === 'dir') return cloneDir(node, copies)
    const clone = node.clone()
    copies.set(node, clone)
    return clone
  }
  for (const [name, node] of dir.entries) out.entries.set(name, copy(node))
  for (const [name, node] of dir.durableEntries) out.durableEntries.set(name, copy(node))
  return out
}

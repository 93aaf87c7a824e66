import { CellReferenceError } from '../util/errors';
import type { Cluster, ExecOptions, ExecResult } from './types';

export type NodeSelector = 'all' | readonly string[];

export interface NodeLine {
  node: string;
  stream: 'stdout' | 'stderr';
  /** without the trailing newline */
  line: string;
}

export type NodeRunResult = { node: string; ok: true; result: ExecResult } | { node: string; ok: false; error: unknown };

/** Names of the selected nodes, in cluster order; unknown names fail before anything runs. */
export function selectNodes(cluster: Cluster, selector: NodeSelector): string[] {
  if (selector === 'all') return cluster.nodes.map((n) => n.name);
  for (const name of selector) cluster.node(name);
  const wanted = new Set(selector);
  if (wanted.size === 0) throw new CellReferenceError(`No nodes selected on cluster "${cluster.name}"`, {}, 'Use `nodes: all` or list node names.');
  return cluster.nodes.map((n) => n.name).filter((n) => wanted.has(n));
}

/** Splits a chunk stream into whole lines; `flush` emits a last line without newline. */
class LineSplitter {
  private rest = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.emit(p);
  }
  flush(): void {
    if (this.rest !== '') this.emit(this.rest);
    this.rest = '';
  }
}

/**
 * Runs the same argv on several nodes in parallel (a `shellscript` cell with `nodes: all`),
 * reporting output line by line tagged with the node, so the caller can prefix `[gpu-001]`.
 * One node failing does not stop the others; each node's outcome is returned.
 */
export async function runOnNodes(
  cluster: Cluster,
  selector: NodeSelector,
  argv: readonly string[],
  options: Omit<ExecOptions, 'onStdout' | 'onStderr'> & { onLine?: (line: NodeLine) => void } = {},
): Promise<NodeRunResult[]> {
  const nodes = selectNodes(cluster, selector);
  const { onLine, ...execOptions } = options;
  return Promise.all(
    nodes.map(async (node): Promise<NodeRunResult> => {
      const out = new LineSplitter((line) => onLine?.({ node, stream: 'stdout', line }));
      const err = new LineSplitter((line) => onLine?.({ node, stream: 'stderr', line }));
      try {
        const result = await cluster.exec(node, argv, { ...execOptions, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
        return { node, ok: true, result };
      } catch (error) {
        return { node, ok: false, error };
      } finally {
        out.flush();
        err.flush();
      }
    }),
  );
}

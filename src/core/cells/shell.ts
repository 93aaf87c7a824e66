import type { CellContext, CellExecutor } from '../exec/cell';
import type { Cluster } from '../launch/types';
import { LocalCluster } from '../launch/local/local-cluster';
import { LineSplitter } from '../util/lines';
import { CancelledError, CommandFailedError } from '../util/errors';
import type { OutputDoc } from '../output/doc';

export { parseShellHeader, type ShellHeader } from '../spec/shell-header';
import { parseShellHeader, type ShellHeader } from '../spec/shell-header';

interface NodeResult {
  node: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

/** `shellscript` cells: run the script on the chosen nodes in parallel, streaming output with per-node prefixes. */
export class ShellCellExecutor implements CellExecutor {
  readonly language = 'shellscript';

  async execute(source: string, ctx: CellContext): Promise<void> {
    const header = parseShellHeader(source, ctx.cell.name);
    const cluster = this.clusterFor(header, ctx);
    const targets = header.nodes === 'all' ? cluster.nodes.map((n) => n.name) : header.nodes;
    for (const t of targets) cluster.node(t);
    const prefix = targets.length > 1;
    const results = await Promise.all(targets.map((node) => this.runOn(cluster, node, source, prefix, ctx)));
    if (ctx.signal.aborted) throw new CancelledError();
    const failed = results.filter((r) => r.exitCode !== 0);
    if (targets.length > 1 || failed.length) ctx.emit({ kind: 'doc', id: 'shell-summary', doc: summaryDoc(cluster, results) });
    if (failed.length) {
      const f = failed[0];
      throw new CommandFailedError(
        failed.length === 1
          ? `The script failed on ${f.node} (${f.signal ? `killed by ${f.signal}` : `exit status ${f.exitCode}`})`
          : `The script failed on ${failed.length} of ${results.length} nodes: ${failed.map((r) => r.node).join(', ')}`,
        { cell: ctx.cell.name, node: f.node },
        'See the output above (or the MoE Bench output channel for the full log).',
      );
    }
  }

  private clusterFor(header: ShellHeader, ctx: CellContext): Cluster {
    if (header.cluster) return ctx.session.clusters.get(header.cluster, ctx.cell.name);
    if (ctx.session.clusters.names().length === 0) {
      // no cluster cell ran yet: the script runs on this machine, as a terminal would
      return ctx.session.store.add(new LocalCluster('local', 0));
    }
    return ctx.session.defaultCluster(ctx.cell.name);
  }

  private async runOn(cluster: Cluster, node: string, script: string, prefix: boolean, ctx: CellContext): Promise<NodeResult> {
    const started = Date.now();
    const splitters: LineSplitter[] = [];
    const sink = (stream: 'stdout' | 'stderr'): ((chunk: string) => void) => {
      if (!prefix) return (text) => ctx.emit({ kind: 'log', stream, text });
      const splitter = new LineSplitter((line) => ctx.emit({ kind: 'log', stream, text: `[${node}] ${line}\n`, source: node }));
      splitters.push(splitter);
      return (chunk) => splitter.push(chunk);
    };
    try {
      const r = await cluster.exec(node, ['bash', '-c', script], { signal: ctx.signal, onStdout: sink('stdout'), onStderr: sink('stderr'), captureLimitBytes: 64 * 1024 });
      return { node, exitCode: r.exitCode, signal: r.signal, durationMs: Date.now() - started };
    } finally {
      for (const s of splitters) s.flush();
    }
  }
}

function summaryDoc(cluster: Cluster, results: NodeResult[]): OutputDoc {
  return {
    title: `Script on ${results.length} node${results.length === 1 ? '' : 's'} of ${cluster.name}`,
    simulated: cluster.kind === 'sim' || undefined,
    blocks: [
      {
        type: 'table',
        columns: ['node', 'exit status', 'duration'],
        units: [null, null, 's'],
        rows: results.map((r) => [r.node, r.signal ? `killed (${r.signal})` : r.exitCode, Math.round(r.durationMs / 100) / 10]),
      },
    ],
  };
}

import type { CellContext, CellExecutor } from '../exec/cell';
import { parseSpec } from '../spec/yaml-spec';
import type { Cluster } from '../launch/types';
import type { OutputDoc } from '../output/doc';
import type { DoctorSpec } from '../launch/cluster-spec';
import { clusterKind, clusterSpecSchema, type ClusterSpec } from '../cluster-kinds';
import { SpecValidationError } from '../util/errors';

/** `moebench-cluster`: brings a cluster up for this notebook session and checks every node. */
export class ClusterCellExecutor implements CellExecutor {
  readonly language = 'moebench-cluster';

  async execute(source: string, ctx: CellContext): Promise<void> {
    const { spec } = parseSpec(clusterSpecSchema, source, { cell: ctx.cell.name, kind: 'moebench-cluster' });
    // re-running the cell replaces the cluster: the old one (and what it started) goes first
    const previous = ctx.session.clusters.tryGet(spec.name);
    if (previous) {
      ctx.session.clusters.delete(spec.name);
      ctx.session.store.delete(previous);
      await previous.dispose();
    }
    ctx.emit({ kind: 'status', text: `connecting to ${spec.name}` });
    const cluster = await this.create(spec, ctx);
    ctx.session.store.add(cluster);
    ctx.session.clusters.set(spec.name, cluster, ctx.cell.name ?? `cell ${ctx.cell.index + 1}`);
    const checks = await this.check(cluster, ctx);
    ctx.emit({ kind: 'doc', id: 'cluster', doc: clusterDoc(cluster, checks) });
    if (checks.every((c) => c.ok)) await this.reattach(cluster, ctx);
    const bad = checks.filter((c) => !c.ok);
    if (bad.length) {
      const { CommandFailedError } = await import('../util/errors');
      throw new CommandFailedError(
        `${bad.length} of ${checks.length} nodes of ${spec.name} are not usable: ${bad.map((b) => `${b.node} (${b.detail})`).join('; ')}`,
        { cell: ctx.cell.name, node: bad[0].node },
        'Fix the node (or remove it from the list) and run the cell again.',
      );
    }
    // `moebench doctor` asks for the doctor on a cell that does not name it
    const doctor = spec.doctor ?? (ctx.host.setting('doctor.force', false) ? true : undefined);
    if (doctor) await runDoctorCell(cluster, doctor, ctx);
  }

  /** deployments this notebook left running (window reload, CLI run) come back instead of being orphaned */
  private async reattach(cluster: Cluster, ctx: CellContext): Promise<void> {
    const { reattachDeployments } = await import('../deploy');
    const r = await reattachDeployments(ctx.session, cluster, { signal: ctx.signal });
    const lines: string[] = [];
    if (r.reattached.length) lines.push(`Re-attached to running deployment${r.reattached.length === 1 ? '' : 's'}: ${r.reattached.map((d) => d.name).join(', ')}.`);
    if (r.ended.length) lines.push(`Deployment${r.ended.length === 1 ? '' : 's'} recorded as running but no longer alive: ${r.ended.join(', ')}.`);
    for (const p of r.problems) lines.push(`Could not read the saved deployment ${p.file}: ${p.message}`);
    if (lines.length) ctx.emit({ kind: 'doc', id: 'reattach', doc: { title: 'Deployments', blocks: [{ type: 'text', text: lines.join('\n') }] } });
  }

  private async create(spec: ClusterSpec, ctx: CellContext): Promise<Cluster> {
    const kind = clusterKind(spec.kind);
    if (!kind) throw new SpecValidationError(`Unknown cluster kind ${JSON.stringify(spec.kind)}`, { cell: ctx.cell.name, field: 'kind' });
    return kind.create(spec, ctx);
  }

  /** one quick command per node, in parallel: proves login, shell and PATH */
  private async check(cluster: Cluster, ctx: CellContext): Promise<{ node: string; ok: boolean; detail: string; ms: number }[]> {
    return Promise.all(
      cluster.nodes.map(async (n) => {
        const t0 = Date.now();
        try {
          const r = await cluster.exec(n.name, ['uname', '-n'], { signal: ctx.signal, captureLimitBytes: 4096 });
          const ms = Date.now() - t0;
          return r.exitCode === 0 ? { node: n.name, ok: true, detail: r.stdout.trim(), ms } : { node: n.name, ok: false, detail: r.stderr.trim() || `exit status ${r.exitCode}`, ms };
        } catch (err) {
          return { node: n.name, ok: false, detail: err instanceof Error ? err.message : String(err), ms: Date.now() - t0 };
        }
      }),
    );
  }
}

/** the preflight doctor for a cluster cell's `doctor:` option; fails the cell per `failOn` */
async function runDoctorCell(cluster: Cluster, spec: DoctorSpec, ctx: CellContext): Promise<void> {
  const o = spec === true ? { engine: 'sglang' as const, failOn: 'error' as const } : spec === false ? undefined : spec;
  if (!o) return;
  ctx.emit({ kind: 'status', text: `${cluster.name}: preflight doctor on ${cluster.nodes.length} nodes` });
  const { runDoctor } = await import('../doctor/doctor');
  const { doctorDoc } = await import('../doctor/doc');
  const report = await runDoctor(cluster, { modelPath: 'modelPath' in o ? o.modelPath : undefined, modelSizeGB: 'modelSizeGB' in o ? o.modelSizeGB : undefined, enginePackage: o.engine, ports: 'ports' in o ? o.ports : undefined, deepepSmoke: 'deepepSmoke' in o ? o.deepepSmoke : undefined, signal: ctx.signal });
  ctx.emit({ kind: 'doc', id: 'doctor', doc: doctorDoc(cluster.name, report, cluster.kind === 'sim') });
  const errors = report.nodes.flatMap((n) => n.rows.filter((r) => r.level === 'error').map((r) => `${n.node}: ${r.label} ${r.value}`));
  const differences = report.mismatches.map((m) => `${m.node}: ${m.label} ${m.value} (others ${m.majority})`);
  const failing = o.failOn === 'never' ? [] : o.failOn === 'mismatch' ? [...errors, ...differences] : errors;
  if (failing.length) {
    const { DoctorFailedError } = await import('../util/errors');
    throw new DoctorFailedError(`Preflight doctor found ${failing.length} problem${failing.length === 1 ? '' : 's'} on ${cluster.name}: ${failing.join('; ')}`, { cell: ctx.cell.name }, 'The node tables above say what differs and where; fix the node, or set doctor.failOn: never to launch anyway.');
  }
}

function clusterDoc(cluster: Cluster, checks: { node: string; ok: boolean; detail: string; ms: number }[]): OutputDoc {
  const gpus = cluster.nodes.reduce((a, n) => a + n.gpus, 0);
  return {
    title: `Cluster ${cluster.name} (${cluster.kind}): ${cluster.nodes.length} node${cluster.nodes.length === 1 ? '' : 's'}, ${gpus} GPUs`,
    simulated: cluster.kind === 'sim' || undefined,
    blocks: [
      {
        type: 'table',
        columns: ['node', 'address', 'GPUs', 'status', 'hostname / error', 'check'],
        units: [null, null, null, null, null, 'ms'],
        rows: cluster.nodes.map((n) => {
          const c = checks.find((x) => x.node === n.name);
          return [n.name, n.address, n.gpus, c?.ok ? 'OK' : 'FAILED', c?.detail ?? '', c?.ms ?? null];
        }),
      },
    ],
  };
}

import { access, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { BenchSpec } from '../spec/bench-spec';
import type { CellContext } from '../exec/cell';
import type { Cluster } from '../launch/types';
import { asLaunched, Deployment, deploymentsDir, recordPath, summarizeStop } from '../deploy';
import type { CellEvent } from '../exec/events';
import { cellName } from '../exec/run-cell';
import { parseNotebook } from '../notebook/format';
import type { Block, OutputDoc } from '../output/doc';
import { planDeployCell, planDeployment, type Plan, type PlanCluster } from '../plan';
import { deploySpecSchema } from '../spec/deploy-spec';
import { RUN_FILES } from '../results/types';
import { CancelledError, isAbortError } from '../util/errors';
import { scrapeStates, windowBalancedness } from './balancedness';
import { derivedName, expandMatrix, type MatrixCell } from './matrix';
import { applyOverrides, SweepSpecError } from './overrides';
import { sweepComparison } from './report';
import { unmodelledNotes } from '../sim/unmodelled';
import { loadSweepState, saveSweepState, sweepFingerprint, sweepStatePath, type SweepCellState, type SweepState } from './state';

/** Runs a (derived) bench spec's load steps: the bench cell's own executor, given the spec (never YAML text again). */
export type RunBench = (spec: BenchSpec, ctx: CellContext) => Promise<void>;

function planCluster(cluster: Cluster): PlanCluster {
  return { name: cluster.name, kind: cluster.kind, nodes: cluster.nodes.map((n) => ({ name: n.name, address: n.address, gpus: n.gpus })) };
}

const commandsKey = (p: Plan): string => JSON.stringify(p.processes.map((x) => [x.id, x.node, x.argv, Object.entries(x.env).sort()]));

/**
 * The deploy cell's text. A live deployment only knows its plan, so the text comes from the
 * handle when it carries it, else from the saved notebook (the cell whose `name:` matches).
 */
async function deploySource(ctx: CellContext, name: string): Promise<{ source: string; note?: string }> {
  const handle: unknown = ctx.session.deployments.tryGet(name);
  if (typeof handle === 'object' && handle !== null && typeof (handle as { source?: unknown }).source === 'string') return { source: (handle as { source: string }).source };
  let text: string;
  try {
    text = await readFile(ctx.session.notebookPath, 'utf8');
  } catch (err) {
    throw new SweepSpecError(`Cannot read the notebook to find deploy cell "${name}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { field: 'sweep.deployment', file: ctx.session.notebookPath }, 'Save the notebook: the sweep derives every configuration from the saved deploy cell.');
  }
  const nb = parseNotebook(text, ctx.session.notebookPath);
  const cell = nb.cells.find((c) => c.kind === 'code' && c.language === 'moebench-deploy' && cellName(c) === name);
  if (!cell) {
    const known = nb.cells.filter((c) => c.language === 'moebench-deploy').map((c) => cellName(c) ?? '?');
    throw new SweepSpecError(`No deploy cell named "${name}" in ${path.basename(ctx.session.notebookPath)}`, { field: 'sweep.deployment' }, known.length ? `Deploy cells: ${known.join(', ')}. Save the notebook if you just added it.` : 'Add a moebench-deploy cell with that name and save the notebook.');
  }
  return { source: cell.source };
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

interface Row {
  cell: MatrixCell;
  deployment: string;
  status: string;
  state?: SweepCellState;
  outputTokPerSec?: number | null;
}

function progressDoc(name: string, rows: readonly Row[], simulated: boolean): OutputDoc {
  const blocks: Block[] = [
    {
      type: 'table',
      title: 'Sweep',
      columns: ['#', 'Configuration', 'Deployment', 'Status', 'Runs', 'Balancedness'],
      rows: rows.map((r) => [r.cell.index + 1, r.cell.label, r.deployment, r.status, r.state?.runIds.join(', ') ?? '', r.state?.balancedness ?? null]),
    },
  ];
  return { title: `${name} — server-configuration sweep (${rows.filter((r) => r.state?.status === 'done').length}/${rows.length} done)`, simulated, blocks };
}

/** cell events with doc ids prefixed, so a matrix cell's deploy docs never replace another's */
function prefixed(ctx: CellContext, prefix: string): CellContext {
  const emit = (e: CellEvent): void => {
    if (e.kind === 'doc') ctx.emit({ ...e, id: `${prefix}${e.id}`, persist: e.id === 'deploy-status' || e.id.endsWith('-result') ? e.persist : false });
    else ctx.emit(e);
  };
  return { ...ctx, emit };
}

/**
 * A server-configuration sweep: for each combination of the matrix, derive the deploy spec (the
 * named deploy cell with the overrides), deploy it under its own name, wait until healthy, run
 * the bench cell's load steps against it, read the expert balancedness of the window, tear it
 * down; then one comparison of all combinations. Progress is saved after every combination, so
 * a re-run after an interruption skips finished ones (unless the bench or deploy spec changed).
 */
export async function runSweep(spec: BenchSpec, ctx: CellContext, runBench: RunBench): Promise<void> {
  const sweep = spec.sweep;
  if (!sweep) return;
  const s = ctx.session;
  const base = await deploySource(ctx, sweep.deployment);
  const baseValue: unknown = parseDocument(base.source).toJS();
  const baseCluster = typeof baseValue === 'object' && baseValue !== null ? (baseValue as { cluster?: unknown }).cluster : undefined;
  if (typeof baseCluster !== 'string') throw new SweepSpecError(`Deploy cell "${sweep.deployment}" names no cluster`, { field: 'sweep.deployment' });
  const cluster = s.clusters.get(baseCluster, spec.name);
  const cells = expandMatrix(sweep.matrix);
  const policy = { allowEnvNames: ctx.host.setting<string[]>('env.allowNames', []) };
  const { sweep: _sweep, ...rest } = spec;
  const fingerprint = sweepFingerprint({ ...rest, sweep: { deployment: sweep.deployment } }, base.source);
  const stateFile = sweepStatePath(s.notebookPath, spec.name);
  const loaded = await loadSweepState(stateFile);
  const log = (text: string): void => ctx.emit({ kind: 'log', stream: 'stdout', text: `${text}\n`, source: 'sweep' });
  if (loaded.problem) log(`saved sweep state ignored: ${loaded.problem}`);
  let state: SweepState = { version: 1, bench: spec.name, fingerprint, deployment: sweep.deployment, updatedAt: new Date().toISOString(), cells: [] };
  if (loaded.state && loaded.state.fingerprint === fingerprint) state = loaded.state;
  else if (loaded.state) log(`the bench spec or deploy cell "${sweep.deployment}" changed since the saved sweep: every configuration runs again`);

  // derive and plan every combination first: a bad override fails before anything is deployed
  const planned = cells.map((cell) => {
    const name = derivedName(sweep.deployment, cell, '-');
    try {
      const parsed = deploySpecSchema.safeParse({ ...applyOverrides(baseValue, cell.overrides), name });
      if (!parsed.success) throw new SweepSpecError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), { field: 'sweep.matrix' });
      return { cell, name, plan: planDeployment(parsed.data, planCluster(cluster), policy) };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new SweepSpecError(`Configuration ${cell.label} is not a valid deployment: ${msg}`, { field: `sweep.matrix` }, 'Check the dotted paths and values against the deploy cell.');
    }
  });

  const baseHandle = asLaunched(s.deployments.tryGet(sweep.deployment));
  if (baseHandle && (baseHandle.phase === 'ready' || baseHandle.phase === 'degraded' || baseHandle.phase === 'starting')) {
    const derived = planDeployCell(base.source, planCluster(cluster), sweep.deployment, policy).plan;
    if (commandsKey(derived) !== commandsKey(baseHandle.plan)) log(`note: the saved deploy cell "${sweep.deployment}" differs from the deployment that ran; the sweep uses the saved text`);
    log(`stopping ${sweep.deployment}: the sweep needs its nodes and ports`);
    log(summarizeStop(await baseHandle.stop({ graceMs: ctx.host.setting('deploy.stopGraceSec', 10) * 1000 })));
  }

  const rows: Row[] = planned.map((p) => {
    const saved = state.cells.find((c) => c.key === p.cell.key);
    return { cell: p.cell, deployment: p.name, status: saved?.status === 'done' ? 'done earlier' : 'pending', state: saved?.status === 'done' ? saved : undefined };
  });
  const simulated = cluster.kind === 'sim';
  const show = (): void => ctx.emit({ kind: 'doc', id: `${spec.name}-sweep`, doc: progressDoc(spec.name, rows, simulated) });
  const save = async (cellState: SweepCellState): Promise<void> => {
    state.cells = [...state.cells.filter((c) => c.key !== cellState.key), cellState];
    await saveSweepState(stateFile, state);
  };
  show();

  for (let i = 0; i < planned.length; i++) {
    const p = planned[i];
    const row = rows[i];
    if (row.state) {
      const present = await Promise.all(row.state.runIds.map((id) => exists(path.join(s.runStoreDir, id, RUN_FILES.summary))));
      if (row.state.runIds.length > 0 && present.every(Boolean)) {
        log(`${p.cell.label}: skipped, finished earlier (runs ${row.state.runIds.join(', ')})`);
        continue;
      }
      log(`${p.cell.label}: its runs are gone from the run store; running it again`);
      row.state = undefined;
    }
    if (ctx.signal.aborted) throw new CancelledError(`Sweep ${spec.name} cancelled before ${p.cell.label}`);
    const deployment = new Deployment(p.plan, cluster, { recordFile: recordPath(deploymentsDir(s.notebookPath), p.name), baseDir: ctx.host.setting<string>('deploy.remoteDir', '') || undefined, cell: spec.name });
    s.deployments.set(p.name, deployment, spec.name);
    const benchName = derivedName(spec.name, p.cell, '.');
    const inner = prefixed(ctx, `${benchName}:`);
    let keep = false;
    try {
      row.status = 'deploying';
      show();
      log(`${p.cell.label}: deploying ${p.name}`);
      await deployment.start({ emit: inner.emit, signal: ctx.signal, healthTimeoutMs: ctx.host.setting('deploy.healthTimeoutSec', 1800) * 1000, graceMs: ctx.host.setting('deploy.stopGraceSec', 10) * 1000 });
      row.status = 'running load';
      show();
      const urls = (await deployment.servers()).filter((x) => x.role !== 'router').map((x) => x.url);
      const before = await scrapeStates(urls, ctx.signal);
      const { sweep: _drop, ...benchRest } = spec;
      const tags = { ...(spec.tags ?? {}), sweep: spec.name, 'sweep.config': p.cell.label, ...Object.fromEntries(p.cell.overrides.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) };
      await runBench({ ...benchRest, name: benchName, target: p.name, tags }, { ...inner, cell: { ...ctx.cell, name: benchName } });
      const bal = windowBalancedness(before, await scrapeStates(urls, ctx.signal));
      const runIds = s.runs.tryGet(benchName)?.runIds ?? [];
      row.state = { key: p.cell.key, label: p.cell.label, overrides: p.cell.overrides, deployment: p.name, status: 'done', runIds, balancedness: bal.mean, finishedAt: new Date().toISOString() };
      row.status = 'done';
      await save(row.state);
      log(`${p.cell.label}: done (runs ${runIds.join(', ')}; balancedness ${bal.mean === null ? 'not exported' : bal.mean.toFixed(3)})`);
      keep = sweep.keepLast && i === planned.length - 1;
    } catch (err) {
      if (isAbortError(err) || ctx.signal.aborted) {
        row.status = 'cancelled';
        show();
        await deployment.stop({ graceMs: ctx.host.setting('deploy.stopGraceSec', 10) * 1000 }).catch(() => undefined);
        throw err instanceof CancelledError ? err : new CancelledError(`Sweep ${spec.name} cancelled during ${p.cell.label}; finished configurations are kept and skipped on the next run`);
      }
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      row.status = `failed: ${msg}`;
      const failed: SweepCellState = { key: p.cell.key, label: p.cell.label, overrides: p.cell.overrides, deployment: p.name, status: 'failed', runIds: [], balancedness: null, finishedAt: new Date().toISOString(), error: msg };
      row.state = failed;
      await save(failed);
      log(`${p.cell.label}: failed: ${msg}`);
    } finally {
      if (!keep && deployment.phase !== 'stopped' && deployment.phase !== 'failed') {
        log(`${p.cell.label}: tearing down ${p.name}: ${summarizeStop(await deployment.stop({ graceMs: ctx.host.setting('deploy.stopGraceSec', 10) * 1000 }))}`);
      }
      if (!keep) s.deployments.delete(p.name);
      show();
    }
  }

  const finished = rows.flatMap((r) => (r.state ? [r.state] : []));
  s.runs.set(spec.name, { runIds: finished.flatMap((c) => c.runIds), cell: spec.name }, spec.name);
  const { doc } = await sweepComparison(`${spec.name}: ${Object.keys(sweep.matrix).join(' × ')}`, s.runStoreDir, finished);
  const unmodelled = simulated ? unmodelledNotes(Object.keys(sweep.matrix)) : [];
  if (unmodelled.length) doc.blocks.unshift({ type: 'badges', items: unmodelled.map((text) => ({ level: 'warn' as const, text })) });
  ctx.emit({ kind: 'doc', id: `${spec.name}-sweep-report`, doc });
}

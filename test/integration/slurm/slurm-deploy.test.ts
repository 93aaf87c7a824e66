import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { ClusterCellExecutor } from '../../../src/core/cells/cluster';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { ShellCellExecutor } from '../../../src/core/cells/shell';
import { Deployment } from '../../../src/core/deploy';
import { processStateText } from '../../../src/core/deploy/tree-model';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import { headlessHost } from '../../../src/core/host';
import { SlurmCluster } from '../../../src/core/launch/slurm/cluster';
import { readRunResult } from '../../../src/core/results';
import { writeSimShims } from '../../../src/core/sim/shims';
import { GpuCollector } from '../../../src/core/telemetry/gpu/collector';
import type { GpuSample } from '../../../src/core/telemetry/schema';
import { CancelledError } from '../../../src/core/util/errors';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { Events, fixture, freePort } from '../deploy/helpers';
import { slurmLab, type SlurmLab } from './lab';

// A real Slurm (scripts/slurm-lab.sh: slurmctld + 8 slurmd on this machine, nodes on
// 127.0.77.K) runs the deploy cell's ranks as `srun --overlap` steps of one allocation. The
// emulator's python3 shim stands in for `python3 -m sglang.launch_server` on the nodes (the
// steps inherit PATH from the cluster cell's env, as srun exports its environment).

let lab: SlurmLab;
let emu: EmulatorBin;
let root: string;
const run = `${process.pid}`;

before(async () => {
  lab = slurmLab();
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-slurm-'));
});
after(async () => {
  await emu?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

const host = headlessHost({ settings: { 'env.allowNames': ['PATH'] } });

function ctx(session: Session, events: Events, language: string, name: string, signal: AbortSignal = new AbortController().signal): CellContext {
  return { session, cell: { index: 0, name, language }, emit: events.sink, signal, host };
}

/** the cluster cell a user writes for the lab (plus PATH to the emulator's shims) */
function clusterCell(name: string, nodes: number, binDir = emu.binDir): string {
  return [
    `name: ${name}`,
    'kind: slurm',
    `nodes: ${nodes}`,
    `partition: ${lab.partition}`,
    `gpusPerNode: ${lab.gpusPerNode}`,
    'timeLimit: "30:00"',
    `logDir: ${JSON.stringify(path.join(root, 'slurm-logs'))}`,
    'env:',
    `  SLURM_CONF: ${JSON.stringify(lab.slurmConf)}`,
    `  PATH: ${JSON.stringify(`${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`)}`,
    '  MOEBENCH_SIM_ZERO_COST: "1"',
    '',
  ].join('\n');
}

/** ports free on every lab node address (the servers bind their node's address) */
async function ports(): Promise<{ server: number; bootstrap: number; router: number }> {
  return { server: await freePort('0.0.0.0', 300), bootstrap: await freePort('0.0.0.0'), router: await freePort('0.0.0.0') };
}

async function deploy2p2d(clusterName: string): Promise<{ text: string; server: number; router: number }> {
  const p = await ports();
  const text = fixture('deploy-2p2d-slurm.yaml')
    .replace('cluster: slurmlab', `cluster: ${clusterName}`)
    .replace('server: 44000', `server: ${p.server}`)
    .replace('bootstrap: 44500', `bootstrap: ${p.bootstrap}`)
    .replace('port: 45000', `port: ${p.router}`);
  return { text, server: p.server, router: p.router };
}

async function deploy1p1d(clusterName: string, name: string): Promise<string> {
  const { text } = await deploy2p2d(clusterName);
  return text.replace('name: pd-slurm', `name: ${name}`).replace('nodes: [node1, node2]\n  replicas: 2', 'nodes: [node1]').replace('nodes: [node3, node4]\n  replicas: 2', 'nodes: [node2]');
}

/** jobs of this name Slurm still lists as pending, running or completing (squeue's default states) */
function liveJobs(jobName: string): string {
  return lab.slurm(['squeue', '-h', '-n', jobName, '-o', '%i %T']).trim();
}

function clusterOf(session: Session, name: string): SlurmCluster {
  const c = session.clusters.get(name);
  assert.ok(c instanceof SlurmCluster);
  return c;
}

describe('deploy cell on a real Slurm (scripts/slurm-lab.sh)', () => {
  test('2 prefill + 2 decode + router as srun steps of one allocation: healthy, benchmarked, stopped with scancel, and squeue is empty after', async (t) => {
    const name = `slurm-pd-${run}`;
    const session = new Session({ notebookPath: path.join(root, 'pd', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    const clusterEvents = new Events();
    await new ClusterCellExecutor().execute(clusterCell(name, 4), ctx(session, clusterEvents, 'moebench-cluster', name));
    const cluster = clusterOf(session, name);
    // the cell showed the job, and the node check ran on every allocated node through srun
    assert.match(clusterEvents.docText('slurm-job'), new RegExp(`Slurm job ${cluster.jobId} \\(moebench-${name}\\): RUNNING`));
    assert.match(clusterEvents.docText('cluster'), /"OK"/);
    assert.deepEqual(
      cluster.nodes.map((n) => n.name),
      ['node1', 'node2', 'node3', 'node4'],
    );
    for (const n of cluster.nodes) assert.ok(lab.addresses.includes(n.address), `${n.name} at ${n.address}`);
    // the Cluster view's line for it: the job and its state, each node's Slurm name on hover
    const about = cluster.describe();
    assert.equal(about.summary, `Slurm job ${cluster.jobId} · RUNNING`);
    assert.deepEqual(Object.keys(about.hosts ?? {}), ['node1', 'node2', 'node3', 'node4']);
    assert.deepEqual(Object.values(about.hosts ?? {}), cluster.nodes.map((n) => cluster.hostOf(n.name)));
    assert.match(about.tooltip.join('\n'), /submitted by this session[\s\S]*Slurm commands run on this machine/);

    const { text, server, router } = await deploy2p2d(name);
    const events = new Events();
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 120_000 }).execute(text, ctx(session, events, 'moebench-deploy', 'deploy'));
    const d = session.deployments.get('pd-slurm');
    assert.ok(d instanceof Deployment);
    assert.deepEqual(
      d.view().processes.map((p) => [p.id, p.node, p.port, p.phase]),
      [
        ['prefill-0/rank-0', 'node1', server, 'healthy'],
        ['prefill-1/rank-0', 'node2', server, 'healthy'],
        ['decode-0/rank-0', 'node3', server, 'healthy'],
        ['decode-1/rank-0', 'node4', server, 'healthy'],
        ['router', 'node1', router, 'healthy'],
      ],
    );
    // each rank is a named step of the allocation, on its own Slurm node
    const steps = lab
      .slurm(['squeue', '-h', '-s', '-j', cluster.jobId, '-o', '%j %N'])
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('pd-slurm.'))
      .sort();
    assert.deepEqual(steps, [
      `pd-slurm.decode-0.rank-0 ${cluster.hostOf('node3')}`,
      `pd-slurm.decode-1.rank-0 ${cluster.hostOf('node4')}`,
      `pd-slurm.prefill-0.rank-0 ${cluster.hostOf('node1')}`,
      `pd-slurm.prefill-1.rank-0 ${cluster.hostOf('node2')}`,
      `pd-slurm.router ${cluster.hostOf('node1')}`,
    ]);
    // the rank's output, relayed by srun, streamed into the cell with node and rank
    assert.match(events.logText(), /^\[node3 decode-0\/rank-0\] .*server_args=ServerArgs/m);
    for (const n of cluster.nodes.slice(0, 4)) assert.match(events.logText(), new RegExp(`host='${n.address.replace(/\./g, '\\.')}', port=${server}\\)`));

    // a bench cell by deployment name, from this machine to the router on node1
    const bench = new Events();
    const benchCell = ['name: smoke', 'target: pd-slurm', 'workload: { dataset: random, numPrompts: 16, inputLen: 64, outputLen: 8, seed: 1 }', 'load: { maxConcurrency: 4 }', ''].join('\n');
    await new BenchCellExecutor().execute(benchCell, ctx(session, bench, 'moebench-bench', 'smoke'));
    const runIds = session.runs.get('smoke').runIds;
    assert.equal(runIds.length, 1);
    const { summary } = await readRunResult(path.join(session.runStoreDir, runIds[0]));
    assert.deepEqual([summary.completed, summary.failed], [16, 0]);

    // a shell cell runs on every allocated node as an srun --overlap step, next to the ranks
    const shell = new Events();
    await new ShellCellExecutor().execute(`# cluster: ${name}\necho "on $SLURMD_NODENAME in job $SLURM_JOB_ID"\n`, ctx(session, shell, 'shellscript', 'where'));
    for (const n of cluster.nodes) assert.match(shell.logText(), new RegExp(`^\\[${n.name}\\] on ${cluster.hostOf(n.name)} in job ${cluster.jobId}$`, 'm'));

    const report = await stopDeployment(session, 'pd-slurm', { graceMs: 5000 });
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.processes.map((p) => p.outcome),
      ['terminated', 'terminated', 'terminated', 'terminated', 'terminated'],
    );
    assert.deepEqual(await cluster.ourSteps(), []);
    // the session ends: nothing of ours runs in the allocation, so it is released
    await session.dispose();
    assert.equal(liveJobs(`moebench-${name}`), '');
  });

  test('re-attach after a restart finds the running job and deployment; a job cancelled from outside is reported with its state and reason', async (t) => {
    const name = `slurm-re-${run}`;
    const notebookPath = path.join(root, 're', 'exp.moebench');
    const first = new Session({ notebookPath, toolVersion: 'test' });
    t.after(() => first.dispose());
    await new ClusterCellExecutor().execute(clusterCell(name, 2), ctx(first, new Events(), 'moebench-cluster', name));
    const jobId = clusterOf(first, name).jobId;
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 120_000 }).execute(await deploy1p1d(name, 'pd-re'), ctx(first, new Events(), 'moebench-deploy', 'deploy'));
    // the CLI ends (its session with it); the deployment outlives it on purpose, and so does its allocation
    await first.dispose();
    assert.match(liveJobs(`moebench-${name}`), new RegExp(`^${jobId} RUNNING$`));

    const second = new Session({ notebookPath, toolVersion: 'test' });
    t.after(() => second.dispose());
    const events = new Events();
    await new ClusterCellExecutor().execute(clusterCell(name, 2), ctx(second, events, 'moebench-cluster', name));
    const cluster = clusterOf(second, name);
    assert.equal(cluster.jobId, jobId, 'the same job, found by its name');
    assert.match(events.docText('reattach'), /Re-attached to running deployment: pd-re/);
    const d = second.deployments.get('pd-re');
    assert.ok(d instanceof Deployment);
    const view = await d.refresh({ probeHealth: true });
    assert.deepEqual(
      view.processes.map((p) => [p.id, p.phase]),
      [
        ['prefill-0/rank-0', 'healthy'],
        ['decode-0/rank-0', 'healthy'],
        ['router', 'healthy'],
      ],
    );

    // someone cancels the job from a terminal: every rank is gone, with the job's state and reason
    lab.slurm(['scancel', jobId]);
    let after = await d.refresh();
    while (after.processes.some((p) => p.phase !== 'gone')) after = await d.refresh();
    assert.equal(after.phase, 'stopped');
    for (const p of after.processes) assert.match(p.reason ?? '', new RegExp(`job ${jobId} CANCELLED: cancelled \\(scancel`), p.id);
    // the Deployments tree says so on each process
    assert.match(processStateText(after.processes[0]), new RegExp(`^gone \\(job ${jobId} CANCELLED: cancelled`));
    const state = cluster.connectionState();
    assert.equal(state.state, 'failed');
    assert.match(state.state === 'failed' ? state.reason : '', /CANCELLED/);
    assert.equal(cluster.describe().summary, `Slurm job ${jobId} · ended`);
    assert.match(cluster.describe().tooltip[0], new RegExp(`^Slurm job ${jobId} \\(found again by its name\\): job ${jobId} CANCELLED`));
    // stopping what is left finds nothing to stop and no step in the job
    const report = await stopDeployment(second, 'pd-re', { graceMs: 2000 });
    assert.deepEqual(report.errors, []);
    assert.equal(liveJobs(`moebench-${name}`), '');
  });

  test('a rank killed through its step (fault injection) exits on its own; a node failure ends the job and every rank reports NODE_FAIL', async (t) => {
    const name = `slurm-nf-${run}`;
    const session = new Session({ notebookPath: path.join(root, 'nf', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    await new ClusterCellExecutor().execute(clusterCell(name, 2), ctx(session, new Events(), 'moebench-cluster', name));
    const cluster = clusterOf(session, name);
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 120_000 }).execute(await deploy1p1d(name, 'pd-nf'), ctx(session, new Events(), 'moebench-deploy', 'deploy'));
    const d = session.deployments.get('pd-nf');
    assert.ok(d instanceof Deployment);

    // scancel --signal=KILL of the router's step: the router alone is gone, the job runs on
    const router = d.remoteStates().find((x) => x.id === 'router');
    assert.ok(router);
    await cluster.launcher.signal(router.remote, 'KILL');
    let view = await d.refresh();
    while (view.processes.find((p) => p.id === 'router')?.phase === 'running') view = await d.refresh();
    assert.deepEqual(
      view.processes.map((p) => [p.id, p.phase === 'exited' || p.phase === 'gone' ? 'ended' : p.phase]),
      [
        ['prefill-0/rank-0', 'healthy'],
        ['decode-0/rank-0', 'healthy'],
        ['router', 'ended'],
      ],
    );
    assert.equal(view.phase, 'degraded');

    // the decode node fails (an administrator marks it DOWN): Slurm ends the job, no requeue
    const host = cluster.hostOf('node2');
    // the lab's slurmd is alive, so Slurm returns the node to service by itself (ReturnToService=2); resume it if not yet
    t.after(() => {
      if (/down|drain/.test(lab.slurm(['sinfo', '-h', '-n', host, '-o', '%t']))) lab.slurm(['scontrol', 'update', `NodeName=${host}`, 'State=RESUME']);
    });
    lab.slurm(['scontrol', 'update', `NodeName=${host}`, 'State=DOWN', 'Reason=moebench-test']);
    view = await d.refresh();
    while (view.processes.some((p) => p.id !== 'router' && p.phase !== 'gone')) view = await d.refresh();
    for (const p of view.processes.filter((x) => x.id !== 'router')) assert.match(p.reason ?? '', new RegExp(`job ${cluster.jobId} NODE_FAIL: a node failed`), p.id);
    const report = await stopDeployment(session, 'pd-nf', { graceMs: 2000 });
    assert.deepEqual(report.errors, []);
    assert.equal(liveJobs(`moebench-${name}`), '');
  });

  test('a job preempted by a higher-priority partition is reported PREEMPTED on every rank', async (t) => {
    const name = `slurm-pre-${run}`;
    const session = new Session({ notebookPath: path.join(root, 'pre', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    await new ClusterCellExecutor().execute(clusterCell(name, 2), ctx(session, new Events(), 'moebench-cluster', name));
    const cluster = clusterOf(session, name);
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 120_000 }).execute(await deploy1p1d(name, 'pd-pre'), ctx(session, new Events(), 'moebench-deploy', 'deploy'));
    const d = session.deployments.get('pd-pre');
    assert.ok(d instanceof Deployment);
    // someone's urgent job wants one GPU of node2, which our allocation holds: Slurm cancels ours
    const urgent = lab.slurm(['sbatch', '--parsable', '-p', lab.urgentPartition, '-N1', '-w', cluster.hostOf('node2'), '--gres=gpu:1', '-o', '/dev/null', '--wrap', 'sleep 600']).trim();
    t.after(() => lab.slurm(['scancel', urgent]));
    let view = await d.refresh();
    while (view.processes.some((p) => p.phase !== 'gone')) view = await d.refresh();
    for (const p of view.processes) assert.match(p.reason ?? '', new RegExp(`job ${cluster.jobId} PREEMPTED: preempted by a higher-priority job`), p.id);
    assert.equal(view.phase, 'stopped');
    const report = await stopDeployment(session, 'pd-pre', { graceMs: 2000 });
    assert.deepEqual(report.errors, []);
    assert.equal(liveJobs(`moebench-${name}`), '');
  });

  test('GPU telemetry streams nvidia-smi from every allocated node as srun steps, and stopping it leaves no step', async (t) => {
    const name = `slurm-gpu-${run}`;
    // the emulator's nvidia-smi shim (emulated H200s) first on the steps' PATH
    const binDir = path.join(root, 'gpu-bin');
    await writeSimShims(binDir, { cliPath: emu.cliPath });
    const session = new Session({ notebookPath: path.join(root, 'gpu', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    await new ClusterCellExecutor().execute(clusterCell(name, 2, binDir), ctx(session, new Events(), 'moebench-cluster', name));
    const cluster = clusterOf(session, name);
    const seen = new Map<string, GpuSample>();
    let bothSeen: () => void = () => undefined;
    const both = new Promise<void>((resolve) => (bothSeen = resolve));
    const collector = new GpuCollector({
      cluster,
      nodes: ['node1', 'node2'],
      intervalMs: 200,
      onSample: (sample) => {
        seen.set(sample.node, sample);
        if (seen.size === 2) bothSeen();
      },
    });
    collector.start();
    await both;
    assert.deepEqual(
      [...seen.values()].map((x) => [x.node, x.gpus.length]).sort(),
      [
        ['node1', 8],
        ['node2', 8],
      ],
    );
    const streaming = lab.slurm(['squeue', '-h', '-s', '-j', cluster.jobId, '-o', '%j %N']).trim().split('\n').filter((l) => l.startsWith('moebench-exec '));
    assert.deepEqual(streaming.sort(), [`moebench-exec ${cluster.hostOf('node1')}`, `moebench-exec ${cluster.hostOf('node2')}`]);
    await collector.dispose();
    let left = await cluster.ourSteps();
    while (left.length) left = await cluster.ourSteps();
    assert.deepEqual(left, []);
    await session.dispose();
    assert.equal(liveJobs(`moebench-${name}`), '');
  });

  test('a job asking more nodes than exist is shown PENDING with Slurm’s reason, and cancelling the cell cancels the job', async (t) => {
    const name = `slurm-big-${run}`;
    const session = new Session({ notebookPath: path.join(root, 'big', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    const abort = new AbortController();
    const events = new Events();
    const sink = events.sink;
    let pendingDoc = '';
    const c = ctx(session, events, 'moebench-cluster', name, abort.signal);
    c.emit = (e) => {
      sink(e);
      // the cell shows the queue state; once Slurm has given its reason, the user cancels
      if (e.kind === 'doc' && e.id === 'slurm-job' && /PENDING — (?!None)/.test(e.doc.title ?? '')) {
        pendingDoc = JSON.stringify(e.doc);
        abort.abort();
      }
    };
    const err = await new ClusterCellExecutor().execute(clusterCell(name, lab.nodes.length + 3), c).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof CancelledError, String(err));
    assert.match(err.message, /Slurm job \d+ was cancelled while PENDING \(PartitionConfig\)/);
    assert.match(pendingDoc, /PartitionConfig: it asks more than the partition has/);
    assert.match(pendingDoc, /will not start as asked/);
    assert.equal(liveJobs(`moebench-${name}`), '');
  });
});

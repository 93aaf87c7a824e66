import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployCellExecutor, listDeployments, restartDeployment, stopDeployment } from '../../../src/core/cells/deploy';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { Deployment, DeploymentFailedError, deploymentsDir, reattachDeployments } from '../../../src/core/deploy';
import { Session } from '../../../src/core/exec/session';
import { CancelledError } from '../../../src/core/util/errors';
import { emulatorBin, type EmulatorBin } from './emulator';
import { cellContext, Events, fixture, freePort, liveInGroups } from './helpers';

// A real launch on this machine: a `local` cluster whose PATH starts with the emulator's
// python3 shim, so the planner's exact argv (`python3 -m sglang.launch_server ...`) starts
// emulated SGLang servers and the router as detached process groups.

let emu: EmulatorBin;
let root: string;

before(async () => {
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-deploy-local-'));
});
after(async () => {
  await emu.dispose();
  rmSync(root, { recursive: true, force: true });
});

let caseNo = 0;
/** a notebook folder, a session and a local cluster whose python3 is the emulator */
function setup(extraEnv = ''): { session: Session; cluster: LocalCluster; dir: string; executor: DeployCellExecutor } {
  const dir = path.join(root, `case${++caseNo}`);
  const cluster = new LocalCluster('here', 16, `export PATH="${emu.binDir}:$PATH" MOEBENCH_SIM_ZERO_COST=1 ${extraEnv}`);
  const session = new Session({ notebookPath: path.join(dir, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('here', cluster, 'cluster');
  return { session, cluster, dir, executor: new DeployCellExecutor({ remoteDir: path.join(dir, 'nodes'), graceMs: 3000 }) };
}

async function spec(edit: (text: string) => string = (t) => t): Promise<string> {
  const ports = { prefill: await freePort('127.0.0.1', 300), bootstrap: await freePort(), decode: await freePort('127.0.0.1', 300), router: await freePort() };
  return edit(
    fixture('deploy-1p1d-local.yaml')
      .replace('server: 41000', `server: ${ports.prefill}`)
      .replace('bootstrap: 41500', `bootstrap: ${ports.bootstrap}`)
      .replace('server: 42000', `server: ${ports.decode}`)
      .replace('port: 43000', `port: ${ports.router}`),
  );
}

function deploymentOf(session: Session, name: string): Deployment {
  const d = session.deployments.get(name);
  assert.ok(d instanceof Deployment);
  return d;
}

async function generate(endpoint: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${endpoint}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Hello, my name is', sampling_params: { max_new_tokens: 4, temperature: 0 } }) });
  const body = (await r.json()) as { text?: string };
  return { status: r.status, text: body.text ?? '' };
}

describe('deploy cell on a local cluster', () => {
  test('prefill + decode + router come up healthy, generate works through the router, stop leaves no process', async () => {
    const { session, executor, dir } = setup();
    const events = new Events();
    await executor.execute(await spec(), cellContext(session, events));

    // the dry-run preview shows the exact commands before anything runs
    assert.match(events.docText('deploy-preview'), /python3 -m sglang.launch_server --model-path \/models\/DeepSeek-V3/);
    assert.match(events.docText('deploy-preview'), /python3 -m sglang_router.launch_router --pd-disaggregation/);
    // server logs streamed with node/rank prefixes
    assert.match(events.logText(), /^\[local prefill-0\/rank-0\] .*server_args=ServerArgs/m);
    assert.match(events.logText(), /^\[local decode-0\/rank-0\] /m);
    const status = events.docText('deploy-status');
    assert.match(status, /Deployment pd-local: ready/);
    assert.match(status, /"healthy"/);

    const d = deploymentOf(session, 'pd-local');
    const endpoint = await d.endpoint();
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const g = await generate(endpoint);
    assert.equal(g.status, 200);
    assert.ok(g.text.length > 0);
    assert.deepEqual((await d.servers()).map((s) => s.role), ['prefill', 'decode', 'router']);

    // the record a reload would re-attach from
    const recordFile = path.join(deploymentsDir(path.join(dir, 'exp.moebench')), 'pd-local.json');
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { processes: { id: string; remote: { pgid: number } }[]; cluster: string };
    assert.equal(record.cluster, 'here');
    assert.deepEqual(record.processes.map((p) => p.id), ['prefill-0/rank-0', 'decode-0/rank-0', 'router']);

    const pgids = d.remoteStates().map((s) => s.remote.pgid ?? 0);
    assert.equal(liveInGroups(pgids).length >= 3, true);
    const report = await stopDeployment(session, 'pd-local');
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated', 'terminated', 'terminated']);
    // this machine has no nvidia-smi: the check says so instead of failing
    assert.equal(report.gpuChecks[0].result, 'no-nvidia-smi');
    assert.deepEqual(liveInGroups(pgids), []);
    assert.equal(existsSync(recordFile), false);
    assert.deepEqual(d.view().processes.map((p) => p.phase), ['stopped', 'stopped', 'stopped']);
    await session.dispose();
  });

  test('a rank that exits during startup: its log tail is in the error and the other ranks are stopped', async () => {
    const { session, executor, dir } = setup();
    const events = new Events();
    // too small a memory fraction: the decode server dies at start-up like SGLang does
    const text = await spec((t) => t.replace('memory: { cudaGraphBatchSizes:', 'memory: { fraction: 0.3, cudaGraphBatchSizes:'));
    const err = await executor.execute(text, cellContext(session, events)).then(
      () => assert.fail('the deployment should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeploymentFailedError, String(err));
    assert.match(err.message, /decode-0\/rank-0 on local exited with status 1/);
    assert.match(err.message, /Not enough memory/);
    assert.match(err.detail.logTail ?? '', /Traceback \(most recent call last\)/);
    assert.equal(err.where.node, 'local');
    // the cell shows the tail too
    assert.match(events.docText('deploy-status'), /Not enough memory/);

    const d = deploymentOf(session, 'pd-local');
    assert.equal(d.phase, 'failed');
    const byId = new Map(d.view().processes.map((p) => [p.id, p]));
    assert.equal(byId.get('decode-0/rank-0')?.phase, 'exited');
    assert.equal(byId.get('decode-0/rank-0')?.exitCode, 1);
    assert.equal(byId.get('prefill-0/rank-0')?.phase, 'stopped');
    // the router is started only once the servers are healthy: never here
    assert.equal(byId.get('router')?.phase, 'pending');
    assert.deepEqual(liveInGroups(d.remoteStates().map((s) => s.remote.pgid ?? 0)), []);
    assert.equal(existsSync(path.join(deploymentsDir(path.join(dir, 'exp.moebench')), 'pd-local.json')), false);
    await session.dispose();
  });

  test('cancelling the cell while the servers load stops every process started', async () => {
    // the emulated servers take 20 s to "load weights": plenty of time to cancel
    const { session, executor } = setup('MOEBENCH_SIM_STARTUP_MS=20000');
    const events = new Events();
    const ac = new AbortController();
    const running = executor.execute(await spec(), cellContext(session, events, ac.signal));
    const started = Date.now();
    while (!/Load weight begin/.test(events.logText()) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    const d = deploymentOf(session, 'pd-local');
    const pgids = d.remoteStates().map((s) => s.remote.pgid ?? 0);
    assert.equal(pgids.length, 2);
    assert.equal(liveInGroups(pgids).length >= 2, true);
    ac.abort();
    await assert.rejects(running, (e: unknown) => e instanceof CancelledError && /stopped 2 processes/.test(e.message));
    assert.deepEqual(liveInGroups(pgids), []);
    assert.equal(d.phase, 'stopped');
    await session.dispose();
  });

  test('closing the notebook keeps the deployment; a reload re-attaches; the same cell adopts it, a changed cell restarts it', async () => {
    const first = setup();
    const text = await spec();
    await first.executor.execute(text, cellContext(first.session, new Events()));
    const pgidsBefore = deploymentOf(first.session, 'pd-local').remoteStates().map((s) => s.remote.pgid ?? 0);
    // documented choice: disposing the session (closing the notebook) does not stop GPU processes
    await first.session.dispose();
    assert.equal(liveInGroups(pgidsBefore).length >= 3, true);

    // "reload": a new session for the same notebook file, a new cluster object
    const session = new Session({ notebookPath: first.session.notebookPath, toolVersion: 'test' });
    const cluster = new LocalCluster('here', 16, `export PATH="${emu.binDir}:$PATH" MOEBENCH_SIM_ZERO_COST=1`);
    session.clusters.set('here', cluster, 'cluster');
    const found = await reattachDeployments(session, cluster);
    assert.deepEqual(found.reattached.map((d) => d.name), ['pd-local']);
    const d = found.reattached[0];
    assert.equal(d.origin, 'reattached');
    assert.deepEqual(d.view().processes.map((p) => p.phase), ['healthy', 'healthy', 'healthy']);
    assert.equal((await generate(await d.endpoint())).status, 200);
    assert.deepEqual(listDeployments(session).map((x) => x.name), ['pd-local']);

    // re-running the unchanged cell adopts the running deployment: same process groups
    const events = new Events();
    await first.executor.execute(text, cellContext(session, events));
    assert.match(events.docText('deploy-status'), /adopted without a restart/);
    assert.deepEqual(deploymentOf(session, 'pd-local').remoteStates().map((s) => s.remote.pgid ?? 0), pgidsBefore);

    // a changed cell: the old deployment is stopped, a new one started
    const changed = new Events();
    await first.executor.execute(text.replace('policy: round_robin', 'policy: random'), cellContext(session, changed));
    assert.deepEqual(liveInGroups(pgidsBefore), []);
    const now = deploymentOf(session, 'pd-local');
    assert.notDeepEqual(now.remoteStates().map((s) => s.remote.pgid ?? 0), pgidsBefore);
    assert.match(changed.docText('deploy-previous-stop'), /terminated/);
    assert.equal(now.phase, 'ready');

    // restart from the tree / palette: new process groups, healthy again
    const pgidsMid = now.remoteStates().map((s) => s.remote.pgid ?? 0);
    const restarted = await restartDeployment(session, 'pd-local');
    assert.ok(restarted.readyInMs > 0);
    assert.deepEqual(liveInGroups(pgidsMid), []);
    assert.equal(now.phase, 'ready');
    const pgidsAfter = now.remoteStates().map((s) => s.remote.pgid ?? 0);
    // starting over a running deployment would lose its process groups: refused
    await assert.rejects(now.start({ emit: () => undefined }), /already running/);
    assert.deepEqual(now.remoteStates().map((s) => s.remote.pgid ?? 0), pgidsAfter);
    await stopDeployment(session, 'pd-local');
    assert.deepEqual(liveInGroups(pgidsAfter), []);
    // nothing left to re-attach
    const again = new Session({ notebookPath: first.session.notebookPath, toolVersion: 'test' });
    assert.deepEqual((await reattachDeployments(again, cluster)).reattached, []);
    await session.dispose();
  });
});

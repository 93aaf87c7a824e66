import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Deployment } from '../../../src/core/deploy/deployment';
import { deploymentsDir, listDeploymentRecords, parseDeploymentRecord, recordPath, saveDeploymentRecord } from '../../../src/core/deploy/record';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { planDeployCell } from '../../../src/core/plan';
import { UnsafeInputError } from '../../../src/core/util/errors';
import type { RemoteProcessState } from '../../../src/core/launch/shell';

const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-record-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cluster = new LocalCluster('here', 8);
const CELL = `name: solo
cluster: here
engine: { kind: sglang, version: "0.5.15" }
model: /models/DeepSeek-V3
modelHint: deepseek-v3
unified:
  nodes: [local]
  parallel: { tp: 8 }
`;

function recordWithProcess(): ReturnType<Deployment['record']> {
  const { plan } = planDeployCell(CELL, { name: 'here', kind: 'local', nodes: [...cluster.nodes] });
  const rec = new Deployment(plan, cluster).record();
  rec.processes.push({ id: 'unified-0/rank-0', remote: <RemoteProcessState>{ version: 1, cluster: 'here', node: 'local', deploymentId: 'solo', name: 'unified-0.rank-0', dir: '~/.moebench/deployments/solo/unified-0.rank-0', pgid: 4321, leaderStart: '123456', token: '0123456789abcdef0123456789abcdef', startedAt: '2026-01-01T00:00:00Z', argv: plan.processes[0].argv } });
  return rec;
}

test('records live in the user\'s state dir, one folder per notebook, never in the workspace', () => {
  const saved = { s: process.env.MOEBENCH_STATE_DIR, x: process.env.XDG_STATE_HOME };
  try {
    delete process.env.MOEBENCH_STATE_DIR;
    process.env.XDG_STATE_HOME = '/home/u/.state';
    const a = deploymentsDir('/home/u/exp/ds.moebench');
    assert.match(a, /^\/home\/u\/\.state\/moebench\/deployments\/ds\.moebench-[0-9a-f]{16}$/);
    assert.ok(!a.startsWith('/home/u/exp/'));
    assert.notEqual(deploymentsDir('/home/u/other/ds.moebench'), a, 'two notebooks of the same name share records');
    process.env.MOEBENCH_STATE_DIR = '/s';
    assert.ok(deploymentsDir('/home/u/exp/ds.moebench').startsWith('/s/deployments/'));
  } finally {
    if (saved.s === undefined) delete process.env.MOEBENCH_STATE_DIR;
    else process.env.MOEBENCH_STATE_DIR = saved.s;
    if (saved.x === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = saved.x;
  }
  assert.equal(recordPath('/x', 'pd-small'), '/x/pd-small.json');
  assert.throws(() => recordPath('/x', '../etc/passwd'), UnsafeInputError);
});

test('a saved record reads back with the plan and every process state, and re-attaches as a Deployment', async () => {
  const rec = recordWithProcess();
  const file = recordPath(dir, 'solo');
  await saveDeploymentRecord(file, rec);
  const back = parseDeploymentRecord(readFileSync(file, 'utf8'), file);
  assert.deepEqual(back.processes, rec.processes);
  assert.deepEqual(back.plan.processes, rec.plan.processes);
  const d = Deployment.fromRecord(back, cluster);
  assert.equal(d.origin, 'reattached');
  assert.deepEqual(d.view().processes.map((p) => [p.id, p.pgid, p.phase]), [['unified-0/rank-0', 4321, 'running']]);
  assert.deepEqual(d.commands[0].argv.slice(0, 3), ['python3', '-m', 'sglang.launch_server']);
});

test('a hand-edited record that would send something odd to a node is refused with the file named', () => {
  const rec = JSON.parse(JSON.stringify(recordWithProcess())) as { processes: { remote: { deploymentId: string } }[] };
  rec.processes[0].remote.deploymentId = 'solo; rm -rf ~';
  assert.throws(() => parseDeploymentRecord(JSON.stringify(rec), '/nb/.moebench/deployments/solo.json'), (e: unknown) => e instanceof UnsafeInputError && e.where.file === '/nb/.moebench/deployments/solo.json' && /deploymentId/.test(e.message));
  assert.throws(() => parseDeploymentRecord('{not json', 'f'), /not JSON/);
});

test('listing skips nothing silently: unreadable records come back as problems', async () => {
  const sub = path.join(dir, 'list');
  await saveDeploymentRecord(recordPath(sub, 'solo'), recordWithProcess());
  writeFileSync(path.join(sub, 'broken.json'), '{');
  const { records, problems } = await listDeploymentRecords(sub);
  assert.deepEqual(records.map((r) => r.record.name), ['solo']);
  assert.equal(problems.length, 1);
  assert.match(problems[0].file, /broken\.json$/);
  assert.deepEqual(await listDeploymentRecords(path.join(dir, 'missing')), { records: [], problems: [] });
});

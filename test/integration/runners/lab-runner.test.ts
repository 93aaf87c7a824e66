import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { headlessHost } from '../../../src/core/host';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { Session } from '../../../src/core/exec/session';
import { startSimServer, type SimServer } from '../../../src/core/sim';
import { startLab, type Lab } from '../../lab/lab';
import { Events } from '../deploy/helpers';
import { labCluster } from '../ssh/helpers';
import { installStandin } from './standin';

// The runner over real OpenSSH: bench_serving (the stand-in on the node's PATH) started through
// the remote supervisor on a lab node, its JSONL read back over ssh and stored as a run.

let lab: Lab;
let cluster: SshCluster;
let server: SimServer;
let root: string;

before(async () => {
  lab = await startLab({ nodes: 1 });
  await installStandin(lab.shimDir, ['sglang.bench_serving']).catch(async (err: unknown) => {
    // the lab's shim dir may have no python3 of its own: the wrapper falls through to the system one
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const { symlink } = await import('node:fs/promises');
    await symlink('/usr/bin/python3', path.join(lab.shimDir, 'python3'));
    await installStandin(lab.shimDir, ['sglang.bench_serving']);
  });
  cluster = await labCluster(lab, ['node1']);
  server = await startSimServer({ host: '127.0.0.1', port: 0, zeroCost: true, servedModelName: 'deepseek-v3' });
  root = await mkdtemp(path.join(os.tmpdir(), 'moebench-lab-runner-'));
});
after(async () => {
  await server?.close();
  await cluster?.dispose();
  await lab?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('runner: sglang on the real-sshd lab', () => {
  test('a URL target, the tool on node1 over ssh, its result imported as a run', async () => {
    const session = new Session({ notebookPath: path.join(root, 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    const events = new Events();
    const cell = ['name: lab-remote', `target: ${server.url}`, 'runner: sglang', 'runnerNode: node1', 'workload: { dataset: random, numPrompts: 16, inputLen: 32, outputLen: 8, rangeRatio: 1 }', 'load: { maxConcurrency: 4 }', ''].join('\n');
    await new BenchCellExecutor().execute(cell, { session, cell: { index: 0, name: 'lab-remote', language: 'moebench-bench' }, emit: events.sink, signal: new AbortController().signal, host: headlessHost() });
    const id = session.runs.get('lab-remote').runIds[0];
    const summary = JSON.parse(await readFile(path.join(session.runStoreDir, id, 'summary.json'), 'utf8')) as { summary: { completed: number; totalOutputTokens: number } };
    assert.equal(summary.summary.completed, 16);
    assert.equal(summary.summary.totalOutputTokens, 16 * 8);
    const meta = JSON.parse(await readFile(path.join(session.runStoreDir, id, 'meta.json'), 'utf8')) as { source: string; target: { simulated: boolean }; importedFrom: { file: string } };
    assert.equal(meta.source, 'sglang-bench-serving');
    assert.equal(meta.target.simulated, true, 'the emulator says so in /server_info, which bench_serving records');
    assert.match(meta.importedFrom.file, /^node1:~\/\.moebench\/bench-runs\//);
    assert.ok(events.all.some((e) => e.kind === 'log' && e.source === 'node1' && /Successful requests:\s+16/.test(e.text)));
    await session.dispose();
  });
});

/**
 * The headless CLI contract that CI gates and nightly jobs rely on (README, `moebench run --help`),
 * checked on the real built `out/cli.js`:
 *   - a failing cell gives exit status 1 and names the cell; later cells do not run;
 *   - `--cell NAME` runs only the named cells; an unknown name is a usage error (2);
 *   - deployments the run started are stopped at exit (no record, no process), also after a
 *     failure, unless `--keep-deployments`;
 *   - `moebench bench` exits 1 when the error-rate badge is an error, 0 otherwise.
 * Deployments launch the planner's exact argv on a `local` cluster whose PATH starts with the
 * emulator's shims, so `python3 -m sglang.launch_server ...` is a real detached process group.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeSimShims } from '../../../src/core/sim/shims';
import { parseNotebook } from '../../../src/core/notebook/format';
import { CLI, assertBuilt, liveInGroup, freePort, listening, runCli, writeNotebook, type CellText } from './helpers';

let root: string;
let binDir: string;
const groupsToKill: number[] = [];
const children: ChildProcess[] = [];

before(async () => {
  assertBuilt();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-cli-contract-'));
  binDir = path.join(root, 'bin');
  await writeSimShims(binDir, { cliPath: CLI });
});

after(() => {
  for (const pgid of groupsToKill) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

let caseNo = 0;
/** a fresh notebook folder with its own HOME (the local cluster's supervisor dir lives under ~) */
function workspace(): { dir: string; home: string; env: NodeJS.ProcessEnv; nb: string; out: string } {
  const dir = path.join(root, `case${++caseNo}`);
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  // deployment records live in the user's state dir (outside the workspace): here, under this HOME
  return { dir, home, env: { ...process.env, HOME: home, MOEBENCH_STATE_DIR: path.join(home, 'state') }, nb: path.join(dir, 'exp.moebench'), out: path.join(dir, 'out.moebench') };
}

const cluster: CellText = { language: 'moebench-cluster', lines: ['name: here', 'kind: local', 'gpusPerNode: 8'] };
const shell = (name: string, ...commands: string[]): CellText => ({ language: 'shellscript', lines: [`# name: ${name}`, '# cluster: here', ...commands] });
const marker = (dir: string, name: string): string => path.join(dir, `${name}.ran`);
const touch = (dir: string, name: string): string => `echo ran > '${marker(dir, name)}'`;

function clusterWithShims(): CellText {
  return { language: 'moebench-cluster', lines: ['name: here', 'kind: local', 'gpusPerNode: 8', `preamble: export PATH="${binDir}:$PATH" MOEBENCH_SIM_ZERO_COST=1`] };
}

function deployCell(name: string, port: number): CellText {
  return {
    language: 'moebench-deploy',
    lines: [`name: ${name}`, 'cluster: here', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/Qwen3-0.6B', 'unified:', '  nodes: [local]', `  ports: { server: ${port} }`],
  };
}

/** the supervisor's pid file for the deployment's one server (process group leader) */
function serverPid(home: string, deployment: string): number {
  const base = path.join(home, '.moebench', 'deployments', deployment);
  const procs = readdirSync(base);
  assert.equal(procs.length, 1, `processes: ${procs.join(', ')}`);
  return Number(readFileSync(path.join(base, procs[0], 'pid'), 'utf8').trim());
}

/** deployment records of the workspace's notebook, in its HOME's state dir; none in the workspace */
function records(dir: string): string[] {
  assert.equal(existsSync(path.join(dir, '.moebench', 'deployments')), false, 'a deployment record was written into the workspace');
  const d = path.join(dir, 'home', 'state', 'deployments');
  return existsSync(d) ? readdirSync(d).flatMap((sub) => readdirSync(path.join(d, sub)).filter((f) => f.endsWith('.json'))) : [];
}

describe('moebench run: exit status and stop at the first failure', () => {
  test('a failing cell exits 1, names the cell on stderr, and later cells do not run', async () => {
    const w = workspace();
    writeNotebook(w.nb, [cluster, shell('first', touch(w.dir, 'first')), shell('boom', 'echo about to fail', 'exit 3'), shell('later', touch(w.dir, 'later'))]);
    const r = await runCli(['run', w.nb, '-o', w.out], { env: w.env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /moebench run: cell boom failed/);
    assert.match(r.stderr, /2 of 4 cells succeeded/);
    assert.ok(existsSync(marker(w.dir, 'first')), 'the cell before the failure ran');
    assert.ok(!existsSync(marker(w.dir, 'later')), 'a cell after the failure ran');
    // the output notebook records the failure on the cell, and nothing for the cell never run
    const out = parseNotebook(readFileSync(w.out, 'utf8'));
    assert.equal(out.cells[2].execution?.success, false);
    assert.ok(out.cells[2].outputs?.some((o) => o.items.some((i) => i.mime === 'text/markdown')), 'error written into the failed cell');
    assert.equal(out.cells[3].execution, undefined);
  });

  test('all cells succeeding exits 0', async () => {
    const w = workspace();
    writeNotebook(w.nb, [cluster, shell('a', touch(w.dir, 'a')), shell('b', touch(w.dir, 'b'))]);
    const r = await runCli(['run', w.nb], { env: w.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3 of 3 cells succeeded/);
    assert.ok(existsSync(marker(w.dir, 'a')) && existsSync(marker(w.dir, 'b')));
  });
});

describe('moebench run --cell', () => {
  test('runs only the named cells, in notebook order', async () => {
    const w = workspace();
    writeNotebook(w.nb, [cluster, shell('one', touch(w.dir, 'one')), shell('two', touch(w.dir, 'two')), shell('three', touch(w.dir, 'three'))]);
    const r = await runCli(['run', w.nb, '--cell', 'here', '--cell', 'three', '-o', w.out], { env: w.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(marker(w.dir, 'three')));
    assert.ok(!existsSync(marker(w.dir, 'one')) && !existsSync(marker(w.dir, 'two')), 'a cell not named by --cell ran');
    assert.match(r.stderr, /2 of 2 cells succeeded/);
  });

  test('a failing cell not named by --cell does not fail the run', async () => {
    const w = workspace();
    writeNotebook(w.nb, [cluster, shell('broken', 'exit 1'), shell('fine', touch(w.dir, 'fine'))]);
    const r = await runCli(['run', w.nb, '--cell', 'here', '--cell', 'fine'], { env: w.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(marker(w.dir, 'fine')));
  });

  test('an unknown cell name is a usage error (2) that runs nothing', async () => {
    const w = workspace();
    writeNotebook(w.nb, [cluster, shell('one', touch(w.dir, 'one'))]);
    const r = await runCli(['run', w.nb, '--cell', 'nope'], { env: w.env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no cell named "nope"/);
    assert.ok(!existsSync(marker(w.dir, 'one')));
  });
});

describe('moebench run: deployments started by the run', () => {
  test('are stopped at exit: no record, no process, port closed', async () => {
    const w = workspace();
    const port = await freePort();
    writeNotebook(w.nb, [clusterWithShims(), deployCell('one', port), shell('probe', touch(w.dir, 'probe'))]);
    const r = await runCli(['run', w.nb], { env: w.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(marker(w.dir, 'probe')));
    const pid = serverPid(w.home, 'one');
    groupsToKill.push(pid);
    assert.deepEqual(records(w.dir), [], 'a deployment record outlived the run');
    assert.deepEqual(liveInGroup(pid), [], `server process group ${pid} outlived the run`);
    assert.equal(await listening(port), false, `port ${port} still open`);
  });

  test('are stopped after a later cell fails too (exit 1)', async () => {
    const w = workspace();
    const port = await freePort();
    writeNotebook(w.nb, [clusterWithShims(), deployCell('one', port), shell('boom', 'exit 7'), shell('later', touch(w.dir, 'later'))]);
    const r = await runCli(['run', w.nb], { env: w.env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cell boom failed/);
    assert.ok(!existsSync(marker(w.dir, 'later')));
    const pid = serverPid(w.home, 'one');
    groupsToKill.push(pid);
    assert.deepEqual(records(w.dir), []);
    assert.deepEqual(liveInGroup(pid), [], `server process group ${pid} outlived the failed run`);
    assert.equal(await listening(port), false);
  });

  test('--keep-deployments leaves the deployment running with its record, for a later session', async () => {
    const w = workspace();
    const port = await freePort();
    writeNotebook(w.nb, [clusterWithShims(), deployCell('kept', port)]);
    const r = await runCli(['run', w.nb, '--keep-deployments'], { env: w.env });
    const pid = serverPid(w.home, 'kept');
    groupsToKill.push(pid);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(records(w.dir), ['kept.json']);
    assert.ok(liveInGroup(pid).some((l) => l.includes('sglang.launch_server')), 'the kept server is gone');
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    process.kill(-pid, 'SIGTERM');
  });

  test('a kept deployment that a later run adopts (same commands, no restart) is stopped at that run\'s exit', async () => {
    const w = workspace();
    const port = await freePort();
    writeNotebook(w.nb, [clusterWithShims(), deployCell('kept', port)]);
    const first = await runCli(['run', w.nb, '--keep-deployments'], { env: w.env });
    assert.equal(first.code, 0, first.stderr);
    const pid = serverPid(w.home, 'kept');
    groupsToKill.push(pid);
    const out = `${w.dir}/second.out.moebench`;
    const second = await runCli(['run', w.nb, '-o', out], { env: w.env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(readFileSync(out, 'utf8'), /adopted without a restart/, 'the second run restarted the deployment instead of adopting it');
    assert.equal(serverPid(w.home, 'kept'), pid, 'the server was restarted');
    assert.deepEqual(records(w.dir), [], 'the adopted deployment\'s record outlived the run');
    assert.deepEqual(liveInGroup(pid), [], `adopted server process group ${pid} outlived the run`);
    assert.equal(await listening(port), false, `port ${port} still open`);
  });
});

describe('moebench bench: the validity gate', () => {
  /** `moebench sim serve` in its own process; resolves with its URL */
  async function simServe(extra: string[]): Promise<string> {
    const child = spawn(process.execPath, [CLI, 'sim', 'serve', '--port', '0', '--zero-cost', '--seed', '5', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let text = '';
    return new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        text += d.toString('utf8');
        const m = /https?:\/\/127\.0\.0\.1:\d+/.exec(text);
        if (m) resolve(m[0]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`sim serve exited ${code}: ${text}`)));
    });
  }
  const benchArgs = (url: string) => ['bench', '--base-url', url, '--num-prompts', '60', '--random-input-len', '16', '--random-output-len', '8', '--warmup-requests', '0', '--no-store', '--quiet'];

  test('a run whose error rate is an error badge (> 1%) exits 1', async () => {
    const url = await simServe(['--error-rate', '0.3']);
    const r = await runCli(benchArgs(url));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /errors/);
  });

  test('a clean run exits 0', async () => {
    const url = await simServe([]);
    const r = await runCli(benchArgs(url));
    assert.equal(r.code, 0, r.stderr);
  });
});

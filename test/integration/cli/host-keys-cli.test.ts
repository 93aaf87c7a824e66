/**
 * `moebench run` and unknown host keys, over real OpenSSH servers (test/lab): with an empty
 * known_hosts the headless run refuses the node (exit 1, the cluster cell named, known_hosts
 * untouched, no later cell run) unless `--accept-new-host-keys`, which connects and records the
 * node's real key; the next run then connects without the flag.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLab, type Lab } from '../../lab/lab';
import { assertBuilt, runCli, writeNotebook } from './helpers';

let lab: Lab;
let dir: string;

before(async () => {
  assertBuilt();
  lab = await startLab({ nodes: 1 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-cli-hostkeys-'));
});
after(async () => {
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** the client environment: the lab's home (no ~/.ssh), no agent */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: lab.clientHome };
  delete e.SSH_AUTH_SOCK;
  return e;
}

function userFiles(knownHosts: string): string[] {
  return ['--ssh-config', lab.sshConfigPath, '--known-hosts', knownHosts];
}

function notebook(knownHosts: string): string {
  const nb = path.join(dir, `nb-${path.basename(knownHosts)}.moebench`);
  writeNotebook(nb, [
    // the user's own ssh_config and known_hosts come from the command line, not the notebook
    { language: 'moebench-cluster', lines: ['name: lab', 'kind: ssh', 'gpusPerNode: 0', 'nodes: [node1]'] },
    { language: 'shellscript', lines: ['# name: whoami', '# cluster: lab', 'echo "on $NODE_NAME"'] },
  ]);
  return nb;
}

function nodeKey(): string {
  return readFileSync(path.join(lab.dir, 'nodes', 'node1', 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
}

describe('moebench run with an empty known_hosts, over real OpenSSH', () => {
  test('without --accept-new-host-keys: refused, exit 1 naming the cluster cell, known_hosts untouched', async () => {
    const kh = path.join(dir, 'kh-refuse');
    writeFileSync(kh, '');
    const r = await runCli(['run', notebook(kh), ...userFiles(kh), '--log-output'], { env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cell lab failed/);
    assert.match(r.stderr, /host key/i);
    assert.match(r.stderr, /0 of 2 cells succeeded/);
    assert.doesNotMatch(r.stderr, /on node1/, 'the shell cell ran on an unverified node');
    assert.equal(readFileSync(kh, 'utf8'), '', 'known_hosts changed without consent');
  });

  test('with --accept-new-host-keys: connects, records the real key; the next run needs no flag', async () => {
    const kh = path.join(dir, 'kh-accept');
    writeFileSync(kh, '');
    const nb = notebook(kh);
    const r = await runCli(['run', nb, ...userFiles(kh), '--accept-new-host-keys', '--log-output'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /on node1/);
    const node = lab.nodes[0];
    const lines = readFileSync(kh, 'utf8').split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.ok(lines[0].includes(nodeKey()), `recorded ${lines[0]}, node key ${nodeKey()}`);
    assert.ok(lines[0].startsWith(`[${node.host}]:${node.port} `) || lines[0].startsWith('|1|'), lines[0]);

    const again = await runCli(['run', nb, ...userFiles(kh), '--log-output'], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(kh, 'utf8').split('\n').filter((l) => l.trim() !== '').length, 1);
  });
});

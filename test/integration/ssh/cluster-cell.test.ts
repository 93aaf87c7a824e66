import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Session } from '../../../src/core/exec/session';
import { runCell } from '../../../src/core/exec/run-cell';
import { defaultExecutors } from '../../../src/core/cells';
import { headlessHost } from '../../../src/core/host';
import type { CellEvent } from '../../../src/core/exec/events';
import { CommandFailedError } from '../../../src/core/util/errors';
import { startLab, type Lab } from '../../lab/lab';

// The cells a user writes, over real OpenSSH: a `kind: ssh` cluster cell (ssh_config aliases,
// ProxyJump through the bastion, known_hosts checked) and a shell cell on `nodes: all`.

let lab: Lab;
before(async () => {
  lab = await startLab({ nodes: 2 });
});
after(async () => lab?.stop());

/** the notebook's sshConfig:/knownHosts: need consent; `settings` holds the user's own files */
function harness(settings: Record<string, unknown> = { consents: ['ssh.sshConfig:*', 'ssh.knownHosts:*'] }) {
  const session = new Session({ notebookPath: path.join(lab.dir, 'nb.moebench'), toolVersion: 'test' });
  const events: CellEvent[] = [];
  const run = (language: string, source: string) =>
    runCell({ index: 0, kind: 'code', language, source }, { session, host: headlessHost({ settings }), executors: defaultExecutors(), emit: (e) => events.push(e), signal: new AbortController().signal });
  return { session, events, run };
}

test('a kind: ssh cluster cell connects through the bastion and a shell cell runs on every node with per-node prefixes', async () => {
  const h = harness();
  try {
    await h.run('moebench-cluster', `name: lab\nkind: ssh\ngpusPerNode: 0\nnodes: [jump-node1, jump-node2]\nsshConfig: ${lab.sshConfigPath}\nknownHosts: ${lab.knownHostsPath}\n`);
    const table = h.events.find((e) => e.kind === 'doc' && e.id === 'cluster');
    assert.ok(table && table.kind === 'doc');
    assert.match(JSON.stringify(table.doc), /"OK"/);
    await h.run('shellscript', '# nodes: all\necho "I am $NODE_NAME on $(hostname)"');
    const logs = h.events.filter((e): e is Extract<CellEvent, { kind: 'log' }> => e.kind === 'log').map((e) => e.text).join('');
    assert.match(logs, /\[jump-node1\] I am node1 on node1/);
    assert.match(logs, /\[jump-node2\] I am node2 on node2/);
  } finally {
    await h.session.dispose();
  }
});

test('an unknown host key makes the cluster cell fail naming the node and the fingerprint (headless refuses)', async () => {
  const empty = path.join(lab.dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  // the user's own (empty) known_hosts and config, from their settings
  const h = harness({ 'ssh.configFile': lab.sshConfigPath, 'ssh.knownHostsFile': empty });
  try {
    await assert.rejects(
      h.run('moebench-cluster', `name: lab\nkind: ssh\ngpusPerNode: 0\nnodes: [node1]\n`),
      (err: unknown) => err instanceof CommandFailedError && /node1/.test(err.message) && /SHA256:/.test(err.message),
    );
  } finally {
    await h.session.dispose();
  }
});

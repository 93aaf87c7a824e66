/**
 * Issue 17, classes 4 and 9: a notebook cannot choose its own trust anchors. Its `knownHosts:`
 * never overrides the user's known_hosts (a changed key stays refused), accepted keys go to the
 * user's file only (never to a path the notebook names), names written are validated, the
 * notebook's files need consent, and "Open Terminal" never hands the notebook's ssh_config to
 * OpenSSH (whose `Match exec` runs local commands).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ClusterCellExecutor } from '../../../src/core/cells/cluster';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import { createSshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { SshHostKeyChangedError } from '../../../src/core/launch/ssh/ssh-errors';
import { Session } from '../../../src/core/exec/session';
import { SpecValidationError, UnsafeInputError } from '../../../src/core/util/errors';
import { startLab, type Lab } from '../../lab/lab';
import { recordingHost } from './helpers';

const run = promisify(execFile);
let lab: Lab | undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'moebench-nbtrust-'));

/** node2's key under node1's name: what the user's file says when node1's key "changed" */
function wrongEntryFor(l: Lab, node: 'node1'): string {
  const lines = readFileSync(l.knownHostsPath, 'utf8').trim().split('\n');
  const n1 = lines.find((x) => x.startsWith(`[${l.nodes[0].host}]`));
  const n2 = lines.find((x) => x.startsWith(`[${l.nodes[1].host}]`));
  assert.ok(n1 && n2 && node === 'node1');
  return `${n1.split(' ')[0]} ${n2.split(' ').slice(1).join(' ')}\n`;
}

describe('a notebook does not choose its own trust anchors', () => {
  before(async () => {
    lab = await startLab({ nodes: 2 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a known_hosts shipped with the notebook cannot make a changed host key pass', async () => {
    assert.ok(lab);
    const userKh = path.join(scratch, 'user_known_hosts');
    writeFileSync(userKh, wrongEntryFor(lab, 'node1'));
    const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['node1'], sshConfigPath: lab.sshConfigPath, knownHostsPath: userKh }, recordingHost({ acceptNewHostKeys: true }), {
      agentSocket: null,
      homeDir: lab.clientHome,
      // the notebook's file lists node1's real key
      notebookFiles: { knownHostsPath: lab.knownHostsPath },
    });
    try {
      await assert.rejects(cluster.exec('node1', ['true']), SshHostKeyChangedError);
    } finally {
      await cluster.dispose();
    }
    assert.equal(readFileSync(userKh, 'utf8'), wrongEntryFor(lab, 'node1'), 'the user\'s file was changed');
  });

  it('an accepted new key goes to the user\'s own known_hosts, never to the notebook\'s path (no folders created)', async () => {
    assert.ok(lab);
    const home = path.join(scratch, 'home-accept');
    mkdirSync(home, { recursive: true });
    const nbConfig = path.join(scratch, 'nb_ssh_config');
    const nbKh = path.join(scratch, 'repo', 'deep', 'dir', 'known_hosts');
    writeFileSync(nbConfig, `Host n1\n  HostName ${lab.nodes[0].host}\n  Port ${lab.nodes[0].port}\n  User ${lab.user}\n  IdentityFile ${lab.identityFile}\n  UserKnownHostsFile ${nbKh}\n`);
    const host = recordingHost({ acceptNewHostKeys: true });
    const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['n1'], sshConfigPath: nbConfig }, host, { agentSocket: null, homeDir: home, notebookFiles: { sshConfig: true, knownHostsPath: nbKh } });
    try {
      const r = await cluster.exec('n1', ['true']);
      assert.equal(r.exitCode, 0);
    } finally {
      await cluster.dispose();
    }
    assert.equal(host.questions.length, 1);
    assert.match(host.questions[0], new RegExp(path.join(home, '.ssh', 'known_hosts').replace(/[.]/g, '\\.')));
    assert.match(readFileSync(path.join(home, '.ssh', 'known_hosts'), 'utf8'), new RegExp(`^\\[${lab.nodes[0].host.replace(/\./g, '\\.')}\\]:${lab.nodes[0].port} ssh-ed25519 `));
    assert.equal(existsSync(path.join(scratch, 'repo')), false, 'a folder the notebook named was created');
  });

  it('a HostKeyAlias that is not a host name is never written into a file', async () => {
    assert.ok(lab);
    const canary = path.join(scratch, 'alias-canary');
    for (const alias of [`x\\n$(touch ${canary})`, `"a b; touch ${canary} #"`, '@revoked', '|1|abc|def', '*', '-oProxyCommand=x']) {
      const home = mkdtempSync(path.join(scratch, 'home-alias-'));
      const nbConfig = path.join(home, 'cfg');
      writeFileSync(nbConfig, `Host n1\n  HostName ${lab.nodes[0].host}\n  Port ${lab.nodes[0].port}\n  User ${lab.user}\n  IdentityFile ${lab.identityFile}\n  HostKeyAlias ${alias}\n`);
      const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['n1'], sshConfigPath: nbConfig }, recordingHost({ acceptNewHostKeys: true }), { agentSocket: null, homeDir: home, notebookFiles: { sshConfig: true } });
      try {
        await assert.rejects(cluster.exec('n1', ['true']), (e: unknown) => e instanceof UnsafeInputError || (e instanceof Error && /Refusing to write/.test(e.message)), alias);
      } finally {
        await cluster.dispose();
      }
      const kh = path.join(home, '.ssh', 'known_hosts');
      assert.ok(!existsSync(kh) || readFileSync(kh, 'utf8') === '', `${alias} was written`);
    }
    assert.equal(existsSync(canary), false);
  });

  it('sshConfig:/knownHosts: in a cluster cell need consent given outside the notebook', async () => {
    assert.ok(lab);
    const session = new Session({ notebookPath: path.join(scratch, 'nb', 'x.moebench'), toolVersion: 'test' });
    const ctx = (consents: string[]): CellContext => ({ session, cell: { index: 0, name: 'c', language: 'moebench-cluster' }, emit: () => undefined, signal: new AbortController().signal, host: headlessHost({ settings: { consents } }) });
    const cell = ['name: c', 'kind: ssh', 'gpusPerNode: 0', 'nodes: [node1]', `sshConfig: ${lab.sshConfigPath}`, `knownHosts: ${lab.knownHostsPath}`].join('\n');
    try {
      await assert.rejects(new ClusterCellExecutor().execute(cell, ctx([])), (e: unknown) => e instanceof SpecValidationError && e.where.field === 'sshConfig');
      await assert.rejects(new ClusterCellExecutor().execute(cell, ctx([`ssh.sshConfig:${lab.sshConfigPath}`])), (e: unknown) => e instanceof SpecValidationError && e.where.field === 'knownHosts');
    } finally {
      await session.dispose();
    }
  });

  it('"Open Terminal" builds ssh from the resolved endpoint: the notebook\'s ssh_config (Match exec) never reaches OpenSSH', async () => {
    assert.ok(lab);
    const canary = path.join(scratch, 'match-exec-canary');
    const nbConfig = path.join(scratch, 'nb_match_config');
    writeFileSync(nbConfig, `Match exec "touch ${canary}"\n  User ${lab.user}\nHost n1\n  HostName ${lab.nodes[0].host}\n  Port ${lab.nodes[0].port}\n  User ${lab.user}\n  IdentityFile ${lab.identityFile}\n`);
    const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['n1'], sshConfigPath: nbConfig, knownHostsPath: lab.knownHostsPath }, recordingHost(), { agentSocket: null, homeDir: lab.clientHome, notebookFiles: { sshConfig: true } });
    try {
      const { argv } = cluster.terminal('n1');
      assert.deepEqual(argv.slice(0, 3), ['ssh', '-F', 'none']);
      assert.ok(!argv.includes(nbConfig), 'the notebook\'s ssh_config was passed to OpenSSH');
      const dd = argv.indexOf('--');
      assert.equal(argv[dd + 1], lab.nodes[0].host);
      // the same argv, non-interactive: it really logs in
      const r = await run(argv[0], [...argv.slice(1, dd), '-o', 'BatchMode=yes', ...argv.slice(dd), 'hostname']);
      assert.equal(r.stdout.trim(), 'node1');
    } finally {
      await cluster.dispose();
    }
    assert.equal(existsSync(canary), false, 'Match exec ran');
    // positive control: the same file given to OpenSSH with -F runs it
    await run('ssh', ['-F', nbConfig, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, 'n1', 'true']).catch(() => undefined);
    assert.equal(existsSync(canary), true);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { headlessHost } from '../../../src/core/host';
import { checkConnectivity } from '../../../src/core/launch/connectivity';
import { passphraseSecretKey } from '../../../src/core/launch/ssh/ssh-auth';
import { SshAuthError, SshHostKeyChangedError, SshHostKeyUnknownError } from '../../../src/core/launch/ssh/ssh-errors';
import type { ConnectionState } from '../../../src/core/launch/types';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster, recordingHost } from './helpers';

/** `ssh-keygen -lf` is the fingerprint a user compares against. */
function fingerprintOf(pubKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubKeyFile], { encoding: 'utf8' }).split(' ')[1];
}

describe('ssh connections to real OpenSSH servers', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ nodes: 2 });
  });
  after(() => lab.stop());

  const hostKeyPub = (node: string): string => path.join(lab.dir, 'nodes', node, 'ssh_host_ed25519_key.pub');

  it('runs a command on an ssh_config alias behind a ProxyJump bastion, key auth', async () => {
    const cluster = await labCluster(lab, ['jump-node2']);
    try {
      const r = await cluster.exec('jump-node2', ['hostname']);
      assert.deepEqual([r.exitCode, r.stdout], [0, 'node2\n']);
      assert.deepEqual(cluster.connectionState('jump-node2'), { state: 'connected' });
      assert.equal(cluster.node('jump-node2').address, '127.0.0.3');
      // the bastion saw the login, so the jump really happened
      assert.match(readFileSync(path.join(lab.dir, 'nodes', 'bastion', 'sshd.log'), 'utf8'), /Accepted publickey for moebench-lab/);
    } finally {
      await cluster.dispose();
    }
  });

  it('logs in with the agent when no key file is configured', async () => {
    const withAgent = await labCluster(lab, ['agent-jump-node1'], recordingHost(), {}, { agentSocket: lab.agentSocket });
    try {
      assert.equal((await withAgent.exec('agent-jump-node1', ['hostname'])).stdout, 'node1\n');
    } finally {
      await withAgent.dispose();
    }
    const noAgent = await labCluster(lab, ['agent-jump-node1']);
    try {
      await assert.rejects(noAgent.exec('agent-jump-node1', ['true']), (err: unknown) => {
        assert.ok(err instanceof SshAuthError, String(err));
        assert.match(err.message, /Permission denied for moebench-lab@agent-bastion/);
        return true;
      });
      assert.equal(noAgent.connectionState('agent-jump-node1').state, 'failed');
    } finally {
      await noAgent.dispose();
    }
  });

  it('follows a two-hop ProxyJump and shares one bastion connection between nodes', async () => {
    const cluster = await labCluster(lab, ['jump2-node2', 'jump-node1', 'jump-node2']);
    try {
      const names = await Promise.all(cluster.nodes.map((n) => cluster.exec(n.name, ['hostname']).then((r) => r.stdout.trim())));
      assert.deepEqual(names, ['node2', 'node1', 'node2']);
      assert.deepEqual(cluster.endpoint('jump2-node2').via?.alias, 'node1');
      assert.deepEqual(cluster.endpoint('jump2-node2').via?.via?.alias, 'bastion');
    } finally {
      await cluster.dispose();
    }
  });

  it('asks for an encrypted key’s passphrase once, through the host’s secret store', async () => {
    const key = lab.encryptedIdentityFile;
    const host = recordingHost({ secrets: { [passphraseSecretKey(key)]: lab.encryptedKeyPassphrase } });
    const nodes = lab.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, user: lab.user, identityFile: key }));
    const cluster = await labCluster(lab, nodes, host, { sshConfigPath: undefined, knownHostsPath: lab.knownHostsPath });
    try {
      const out = await Promise.all(nodes.map((n) => cluster.exec(n.name, ['hostname'])));
      assert.deepEqual(out.map((r) => r.stdout), ['node1\n', 'node2\n']);
      assert.deepEqual(host.secretRequests, [`ssh-passphrase:${key}`]);
    } finally {
      await cluster.dispose();
    }
    const noSecret = await labCluster(lab, [nodes[0]], recordingHost(), { sshConfigPath: undefined, knownHostsPath: lab.knownHostsPath });
    try {
      await assert.rejects(noSecret.exec('node1', ['true']), /skipped: no passphrase given/);
    } finally {
      await noSecret.dispose();
    }
  });

  it('refuses an unknown host key in a headless run and names its fingerprint', async () => {
    const empty = path.join(lab.dir, 'known_hosts.empty');
    writeFileSync(empty, '');
    const cluster = await labCluster(lab, ['node1'], headlessHost(), { knownHostsPath: empty });
    try {
      await assert.rejects(cluster.exec('node1', ['true']), (err: unknown) => {
        assert.ok(err instanceof SshHostKeyUnknownError, String(err));
        assert.ok(err.message.includes(fingerprintOf(hostKeyPub('node1'))), err.message);
        assert.match(err.hint ?? '', /--accept-new-host-keys/);
        return true;
      });
      assert.equal(readFileSync(empty, 'utf8'), '', 'nothing was added');
    } finally {
      await cluster.dispose();
    }
  });

  it('adds an accepted new host key to known_hosts and trusts it afterwards', async () => {
    const file = path.join(lab.dir, 'known_hosts.accept');
    writeFileSync(file, '');
    const host = recordingHost({ acceptNewHostKeys: true });
    const first = await labCluster(lab, ['node2'], host, { knownHostsPath: file });
    try {
      assert.equal((await first.exec('node2', ['hostname'])).stdout, 'node2\n');
      assert.equal(host.questions.length, 1);
      assert.ok(host.questions[0].includes(fingerprintOf(hostKeyPub('node2'))));
    } finally {
      await first.dispose();
    }
    // what OpenSSH itself accepts: the added line is a valid known_hosts entry
    execFileSync('ssh', ['-F', lab.sshConfigPath, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${file}`, '-o', 'StrictHostKeyChecking=yes', 'node2', 'true']);
    const refusing = recordingHost();
    const second = await labCluster(lab, ['node2'], refusing, { knownHostsPath: file });
    try {
      assert.equal((await second.exec('node2', ['hostname'])).stdout, 'node2\n');
      assert.deepEqual(refusing.questions, []);
    } finally {
      await second.dispose();
    }
  });

  it('always refuses a changed host key, naming both fingerprints', async () => {
    const file = path.join(lab.dir, 'known_hosts.changed');
    const node2Key = readFileSync(hostKeyPub('node2'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(file, `[127.0.0.2]:${lab.nodes[0].port} ${node2Key}\n`);
    const host = recordingHost({ acceptNewHostKeys: true });
    const cluster = await labCluster(lab, ['node1'], host, { knownHostsPath: file });
    try {
      await assert.rejects(cluster.exec('node1', ['true']), (err: unknown) => {
        assert.ok(err instanceof SshHostKeyChangedError, String(err));
        assert.ok(err.message.includes(fingerprintOf(hostKeyPub('node2'))), `expected fingerprint in: ${err.message}`);
        assert.ok(err.message.includes(fingerprintOf(hostKeyPub('node1'))), `offered fingerprint in: ${err.message}`);
        return true;
      });
      assert.deepEqual(host.questions, [], 'a changed key is not even asked about');
      assert.equal(cluster.connectionState('node1').state, 'failed');
    } finally {
      await cluster.dispose();
    }
  });

  it('accepts hashed known_hosts entries (ssh-keygen -H)', async () => {
    const hashed = path.join(lab.dir, 'known_hosts.hashed.copy');
    copyFileSync(lab.hashedKnownHostsPath, hashed);
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const cluster = await labCluster(lab, ['jump-node1'], headlessHost(), { knownHostsPath: hashed });
    try {
      assert.equal((await cluster.exec('jump-node1', ['hostname'])).stdout, 'node1\n');
    } finally {
      await cluster.dispose();
    }
  });

  it('the connectivity check reports each node, with the reason for a dead one', async () => {
    const dead = { name: 'dead', host: '127.0.0.250', port: lab.nodes[0].port };
    const cluster = await labCluster(lab, ['node1', 'jump-node2', dead], headlessHost({ acceptNewHostKeys: false }));
    const states: string[] = [];
    const sub = cluster.onStateChange((node: string, s: ConnectionState) => states.push(`${node}:${s.state}`));
    try {
      const checks = await checkConnectivity(cluster, { timeoutMs: 15_000 });
      assert.deepEqual(
        checks.map((c) => [c.node, c.ok, c.hostname]),
        [
          ['node1', true, 'node1'],
          ['jump-node2', true, 'node2'],
          ['dead', false, undefined],
        ],
      );
      assert.match(checks[2].error ?? '', /ECONNREFUSED/);
      assert.ok(states.includes('node1:connecting') && states.includes('node1:connected'), states.join(' '));
      assert.ok(states.includes('dead:failed'), states.join(' '));
    } finally {
      await sub.dispose();
      await cluster.dispose();
    }
  });
});

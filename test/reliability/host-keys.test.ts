/**
 * Host keys over real OpenSSH servers, as a matrix: every node (direct and behind a ProxyJump
 * bastion) against every known_hosts situation (unknown, changed, revoked, trusted, hashed) and
 * every kind of host (headless CLI, a user who accepts, a user who refuses). Unknown keys are
 * refused headless or asked about; changed and revoked keys are refused without a question, even
 * by a host that would say yes; known_hosts only ever grows by an accepted key.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { headlessHost, type HostServices } from '../../src/core/host';
import { SshHostKeyChangedError, SshHostKeyRevokedError, SshHostKeyUnknownError } from '../../src/core/launch/ssh/ssh-errors';
import { startLab, type Lab } from '../lab/lab';
import { labCluster, recordingHost } from '../integration/ssh/helpers';
import { figure } from './helpers';

type Situation = 'unknown' | 'changed' | 'revoked' | 'trusted' | 'trusted-hashed' | 'changed-hashed';
type HostKind = 'headless' | 'accepts' | 'refuses';

let lab: Lab;
const counts = { unknownRefused: 0, unknownAsked: 0, unknownTotal: 0, changedRefused: 0, changedTotal: 0, trustedOk: 0, trustedTotal: 0 };

function keyLine(node: string): string {
  return readFileSync(path.join(lab.dir, 'nodes', node, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
}

/** known_hosts for a target node `node` reached (maybe) through the bastion */
function knownHosts(situation: Situation, node: string, viaBastion: boolean, file: string): void {
  const n = lab.nodes.find((x) => x.name === node);
  assert.ok(n);
  const other = node === 'node1' ? 'node2' : 'node1';
  const name = `[${n.host}]:${n.port}`;
  const bastion = viaBastion ? `[${lab.bastion.host}]:${lab.bastion.port} ${keyLine('bastion')}\n` : '';
  const lines: Record<Situation, string> = {
    unknown: bastion,
    changed: `${bastion}${name} ${keyLine(other)}\n`,
    revoked: `${bastion}@revoked ${name} ${keyLine(node)}\n${name} ${keyLine(node)}\n`,
    trusted: `${bastion}${name} ${keyLine(node)}\n`,
    'trusted-hashed': `${bastion}${name} ${keyLine(node)}\n`,
    'changed-hashed': `${bastion}${name} ${keyLine(other)}\n`,
  };
  writeFileSync(file, lines[situation]);
  if (situation.endsWith('hashed')) {
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    assert.match(readFileSync(file, 'utf8'), /^\|1\|/m);
  }
}

function host(kind: HostKind): HostServices & { questions: string[] } {
  if (kind === 'headless') {
    const h = headlessHost();
    const questions: string[] = [];
    return { ...h, questions, confirm: async (q, d) => (questions.push(`${q} ${d ?? ''}`), h.confirm(q, d)) };
  }
  return recordingHost({ acceptNewHostKeys: kind === 'accepts' });
}

describe('host keys: 100% refused or asked, over real OpenSSH servers', () => {
  before(async () => {
    lab = await startLab({ nodes: 2 });
  });
  after(() => lab.stop());

  const situations: Situation[] = ['unknown', 'changed', 'revoked', 'trusted', 'trusted-hashed', 'changed-hashed'];
  const kinds: HostKind[] = ['headless', 'accepts', 'refuses'];
  const targets = [
    { alias: 'node1', node: 'node1', via: false },
    { alias: 'node2', node: 'node2', via: false },
    { alias: 'jump-node1', node: 'node1', via: true },
    { alias: 'jump-node2', node: 'node2', via: true },
  ];

  for (const situation of situations) {
    test(`${situation} host key: ${targets.length} targets x ${kinds.length} hosts`, async () => {
      for (const t of targets) {
        for (const kind of kinds) {
          const file = path.join(lab.dir, `kh-${situation}-${t.alias}-${kind}`);
          knownHosts(situation, t.node, t.via, file);
          const before = readFileSync(file, 'utf8');
          const h = host(kind);
          const cluster = await labCluster(lab, [t.alias], h, { knownHostsPath: file });
          let outcome: 'connected' | Error;
          try {
            const r = await cluster.exec(t.alias, ['hostname']);
            assert.equal(r.stdout, `${t.node}\n`);
            outcome = 'connected';
          } catch (err) {
            outcome = err as Error;
          } finally {
            await cluster.dispose();
          }
          const label = `${situation}/${t.alias}/${kind}`;
          const after = readFileSync(file, 'utf8');
          if (situation === 'unknown') {
            counts.unknownTotal++;
            if (kind === 'accepts') {
              assert.equal(outcome, 'connected', label);
              assert.equal(h.questions.length, 1, `${label}: asked once`);
              assert.ok(after.startsWith(before) && after.length > before.length, `${label}: the accepted key was added`);
              counts.unknownAsked++;
            } else {
              assert.ok(outcome instanceof SshHostKeyUnknownError, `${label}: ${String(outcome)}`);
              assert.equal(after, before, `${label}: known_hosts unchanged`);
              if (kind === 'refuses') {
                assert.equal(h.questions.length, 1, `${label}: asked once`);
                counts.unknownAsked++;
              } else {
                counts.unknownRefused++;
              }
            }
          } else if (situation.startsWith('changed') || situation === 'revoked') {
            counts.changedTotal++;
            const expected = situation === 'revoked' ? SshHostKeyRevokedError : SshHostKeyChangedError;
            assert.ok(outcome instanceof expected, `${label}: ${String(outcome)}`);
            assert.deepEqual(h.questions, [], `${label}: a changed or revoked key is never asked about`);
            assert.equal(after, before, `${label}: known_hosts unchanged`);
            counts.changedRefused++;
          } else {
            counts.trustedTotal++;
            assert.equal(outcome, 'connected', label);
            assert.deepEqual(h.questions, [], label);
            assert.equal(after, before, label);
            counts.trustedOk++;
          }
        }
      }
    });
  }

  test('figures', () => {
    const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(0)}%` : 'n/a');
    figure({
      'hostkey-unknown-cases': counts.unknownTotal,
      'hostkey-unknown-refused-or-asked': pct(counts.unknownRefused + counts.unknownAsked, counts.unknownTotal),
      'hostkey-changed-or-revoked-cases': counts.changedTotal,
      'hostkey-changed-refused': pct(counts.changedRefused, counts.changedTotal),
      'hostkey-trusted-connected': pct(counts.trustedOk, counts.trustedTotal),
    });
    assert.equal(counts.unknownRefused + counts.unknownAsked, counts.unknownTotal);
    assert.equal(counts.changedRefused, counts.changedTotal);
  });
});

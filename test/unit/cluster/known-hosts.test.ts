import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { appendKnownHost, checkHostKey, fingerprintSha256, hostFieldMatches, knownHostsName, knownKeyTypes, parseKnownHosts } from '../../../src/core/launch/ssh/known-hosts';

/** Real keys and real `ssh-keygen` output, so the format matches what OpenSSH writes and reads. */
describe('known_hosts checking', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-kh-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const newKey = (name: string): { blob: Buffer; line: string; pub: string } => {
    const file = path.join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    const line = readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    return { blob: Buffer.from(line.split(' ')[1], 'base64'), line, pub: `${file}.pub` };
  };
  const a = newKey('a');
  const b = newKey('b');

  it('fingerprints match ssh-keygen -lf', () => {
    assert.equal(fingerprintSha256(a.blob), execFileSync('ssh-keygen', ['-lf', a.pub], { encoding: 'utf8' }).split(' ')[1]);
  });

  it('uses [host]:port names for ports other than 22', () => {
    assert.equal(knownHostsName('GPU-01', 22), 'gpu-01');
    assert.equal(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222');
  });

  it('trusts a listed key, refuses a different one as changed, and knows nothing of other hosts', () => {
    const entries = parseKnownHosts(`# comment\ngpu-01,10.0.0.5 ${a.line}\n[gpu-02]:2222 ${b.line} comment here\n`);
    assert.deepEqual(checkHostKey(entries, 'gpu-01', a.blob), { verdict: 'trusted' });
    assert.deepEqual(checkHostKey(entries, '10.0.0.5', a.blob), { verdict: 'trusted' });
    assert.deepEqual(checkHostKey(entries, 'gpu-01', b.blob), { verdict: 'changed', expected: [fingerprintSha256(a.blob)] });
    assert.deepEqual(checkHostKey(entries, '[gpu-02]:2222', b.blob), { verdict: 'trusted' });
    assert.deepEqual(checkHostKey(entries, 'gpu-02', b.blob), { verdict: 'unknown' }, 'port 22 is another name');
    assert.deepEqual(knownKeyTypes(entries, 'gpu-01'), ['ssh-ed25519']);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `gpu-01 ${a.line}\n[10.1.1.1]:2222 ${b.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    assert.ok(entries.every((e) => e.hosts.startsWith('|1|')));
    assert.equal(checkHostKey(entries, 'gpu-01', a.blob).verdict, 'trusted');
    assert.equal(checkHostKey(entries, '[10.1.1.1]:2222', b.blob).verdict, 'trusted');
    assert.equal(checkHostKey(entries, 'gpu-01', b.blob).verdict, 'changed');
    assert.equal(checkHostKey(entries, 'gpu-03', a.blob).verdict, 'unknown');
  });

  it('honours wildcards, negation and @revoked, and skips @cert-authority', () => {
    assert.equal(hostFieldMatches('*.cluster.local,!bad.cluster.local', 'gpu-7.cluster.local'), true);
    assert.equal(hostFieldMatches('*.cluster.local,!bad.cluster.local', 'bad.cluster.local'), false);
    assert.equal(hostFieldMatches('gpu-0?', 'gpu-07'), true);
    assert.equal(hostFieldMatches('gpu-0?', 'gpu-107'), false);
    const entries = parseKnownHosts(`@revoked * ${a.line}\n@cert-authority *.x ${b.line}\ngpu-01 ${a.line}\n`);
    assert.deepEqual(checkHostKey(entries, 'gpu-01', a.blob), { verdict: 'revoked' });
    assert.deepEqual(checkHostKey(entries, 'n.x', b.blob), { verdict: 'unknown' });
  });

  it('appends what ssh itself would write, and OpenSSH finds it', async () => {
    const file = path.join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, '[127.0.0.2]:2222', a.blob);
    writeFileSync(file, `${readFileSync(file, 'utf8')}no-newline-at-end ${b.line}`);
    await appendKnownHost(file, 'gpu-01', b.blob);
    const text = readFileSync(file, 'utf8');
    assert.equal(text, `[127.0.0.2]:2222 ${a.line}\nno-newline-at-end ${b.line}\ngpu-01 ${b.line}\n`);
    assert.match(execFileSync('ssh-keygen', ['-F', '[127.0.0.2]:2222', '-f', file], { encoding: 'utf8' }), /ssh-ed25519/);
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSshConfig, parseJumpSpec, resolveEndpoint, type ResolveContext } from '../../../src/core/launch/ssh/ssh-config-file';
import { SshConfigError } from '../../../src/core/launch/ssh/ssh-errors';

describe('ssh_config resolution', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'moebench-sshcfg-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(path.join(home, '.ssh', 'config.d'), { recursive: true });
  writeFileSync(
    path.join(home, '.ssh', 'config'),
    [
      'Include config.d/*.conf',
      'Host gpu-0*',
      '  HostName %h.cluster.internal',
      '  ProxyJump login',
      'Host login',
      '  HostName login.example.org',
      '  User alice',
      '  Port 2200',
      '  IdentityFile ~/.ssh/id_login',
      'Host legacy',
      '  ProxyCommand nc %h %p',
      'Host *',
      '  User bob',
      '  IdentityFile ~/.ssh/id_ed25519',
      '  ServerAliveInterval 30',
    ].join('\n'),
  );
  writeFileSync(path.join(home, '.ssh', 'config.d', '10-h200.conf'), 'Host h200-*\n  HostName 10.0.%h\n  ProxyJump login,gpu-01:2222\n  User carol\n');
  writeFileSync(path.join(home, '.ssh', 'config.d', '20-first-wins.conf'), 'Host gpu-01\n  Port 2022\n');
  const ctx = async (): Promise<ResolveContext> => ({ config: await loadSshConfig(undefined, home), homeDir: home, localUser: 'me' });

  it('applies Host patterns, tokens, ~ and first-value-wins, with Include expanded in place', async () => {
    const ep = resolveEndpoint('gpu-01', {}, await ctx());
    assert.equal(ep.hostName, 'gpu-01.cluster.internal');
    assert.equal(ep.port, 2022, 'from the included file, which comes first');
    assert.equal(ep.user, 'bob');
    assert.deepEqual(ep.identityFiles, [path.join(home, '.ssh', 'id_ed25519')]);
    assert.deepEqual(ep.knownHostsFiles, [path.join(home, '.ssh', 'known_hosts')]);
    assert.equal(ep.via?.alias, 'login');
    assert.deepEqual([ep.via?.hostName, ep.via?.port, ep.via?.user], ['login.example.org', 2200, 'alice']);
    assert.deepEqual(ep.via?.identityFiles, [path.join(home, '.ssh', 'id_login'), path.join(home, '.ssh', 'id_ed25519')]);
  });

  it('chains several ProxyJump hops in order, each resolved through the config', async () => {
    const ep = resolveEndpoint('h200-7', {}, await ctx());
    assert.equal(ep.user, 'carol');
    // h200-7 <- gpu-01:2222 <- login
    assert.deepEqual([ep.via?.alias, ep.via?.port, ep.via?.hostName], ['gpu-01', 2222, 'gpu-01.cluster.internal']);
    assert.equal(ep.via?.via?.alias, 'login');
    assert.equal(ep.via?.via?.via, undefined);
  });

  it('lets the cluster cell override user, port, key and jump', async () => {
    const ep = resolveEndpoint('gpu-02', { user: 'ops', port: 22, identityFile: '/keys/k', proxyJump: 'none' }, await ctx());
    assert.deepEqual([ep.user, ep.port, ep.identityFiles, ep.via], ['ops', 22, ['/keys/k'], undefined]);
  });

  it('refuses ProxyCommand instead of running it', async () => {
    const c = await ctx();
    assert.throws(() => resolveEndpoint('legacy', {}, c), (err: unknown) => err instanceof SshConfigError && /uses ProxyCommand/.test(err.message));
  });

  it('works without any config file, and fails clearly for an explicit missing one', async () => {
    const none = await loadSshConfig(undefined, path.join(home, 'nobody'));
    assert.equal(none, undefined);
    const ep = resolveEndpoint('10.0.0.9', {}, { config: none, homeDir: home, localUser: 'me' });
    assert.deepEqual([ep.hostName, ep.port, ep.user], ['10.0.0.9', 22, 'me']);
    await assert.rejects(loadSshConfig(path.join(home, 'missing'), home), SshConfigError);
  });

  it('parses ProxyJump hop syntax', () => {
    assert.deepEqual(parseJumpSpec('alice@login:2200'), { host: 'login', user: 'alice', port: 2200 });
    assert.deepEqual(parseJumpSpec('ssh://bob@[::1]:22'), { host: '::1', user: 'bob', port: 22 });
    assert.deepEqual(parseJumpSpec('bastion'), { host: 'bastion', user: undefined, port: undefined });
  });
});

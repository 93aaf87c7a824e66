import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Cluster, ClusterNodeInfo, ExecOptions, ExecResult } from '../../../src/core/launch/types';
import { noLauncher } from '../no-launcher';

export const FIXTURES = path.join(__dirname, '../../fixtures/deep-telemetry');

export function fixture(rel: string): string {
  return fs.readFileSync(path.join(FIXTURES, rel), 'utf8');
}

export type FakeExec = (node: string, argv: readonly string[], options: ExecOptions) => Promise<ExecResult>;

/** A Cluster whose exec is a test function; records every argv it ran. */
export function fakeCluster(names: string[], exec: FakeExec): Cluster & { calls: { node: string; argv: string[] }[] } {
  const nodes: ClusterNodeInfo[] = names.map((name) => ({ name, address: '127.0.0.1', gpus: 4 }));
  const calls: { node: string; argv: string[] }[] = [];
  return {
    name: 'fake',
    kind: 'sim',
    launcher: noLauncher,
    nodes,
    calls,
    node(name: string) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    exec(node, argv, options = {}) {
      calls.push({ node, argv: [...argv] });
      return exec(node, argv, options);
    },
    httpEndpoint: async () => 'http://127.0.0.1:1',
    connectionState: () => ({ state: 'connected' }),
    dispose: () => undefined,
  };
}

/** Streams `text` in small chunks, then stays open until aborted (a long-lived remote command). */
export async function streamThenWait(text: string, options: ExecOptions): Promise<ExecResult> {
  for (let i = 0; i < text.length; i += 37) options.onStdout?.(text.slice(i, i + 37));
  return new Promise((resolve) => {
    const done = (): void => resolve({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
    if (!options.signal || options.signal.aborted) return done();
    options.signal.addEventListener('abort', done, { once: true });
  });
}

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

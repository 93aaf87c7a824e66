import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Cluster, ClusterNodeInfo, ExecOptions, ExecResult } from '../../../src/core/launch/types';
import { noLauncher } from '../no-launcher';

export function fixture(rel: string): string {
  return fs.readFileSync(path.join(__dirname, '../../fixtures', rel), 'utf8');
}

/** Deterministic chunking: cuts text at pseudo-random points (1..maxLen chars), like an SSH channel. */
export function chunk(text: string, seed: number, maxLen = 64): string[] {
  const out: string[] = [];
  let s = seed >>> 0;
  let i = 0;
  while (i < text.length) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const len = 1 + (s % maxLen);
    out.push(text.slice(i, i + len));
    i += len;
  }
  return out;
}

export type FakeExec = (node: string, argv: readonly string[], options: ExecOptions) => Promise<ExecResult>;

/** A Cluster whose exec is a test function; records every argv it was asked to run. */
export function fakeCluster(nodes: ClusterNodeInfo[], exec: FakeExec): Cluster & { calls: { node: string; argv: string[] }[] } {
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

/** Resolves when the signal aborts, like a remote process killed by the cluster. */
export function untilAborted(signal: AbortSignal | undefined): Promise<ExecResult> {
  return new Promise((resolve) => {
    const done = () => resolve({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
    if (!signal) return;
    if (signal.aborted) return done();
    signal.addEventListener('abort', done, { once: true });
  });
}

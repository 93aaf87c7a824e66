/**
 * Helpers for the CLI contract tests: they run the real built `out/cli.js` (what `npx moebench`
 * runs) as a child process, on small notebooks written to a fresh directory per test.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { serializeNotebook } from '../../../src/core/notebook/format';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'out', 'cli.js');

export function assertBuilt(): void {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node out/cli.js ...args`; never rejects, the exit status is part of the contract under test */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CellText {
  language: string;
  lines: string[];
}

export function writeNotebook(file: string, cells: CellText[]): void {
  writeFileSync(file, serializeNotebook({ metadata: {}, cells: cells.map((c) => ({ kind: 'code', language: c.language, source: c.lines.join('\n') })) }));
}

/** a port the kernel hands out now (bound then released): no fixed or pid-derived ports */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Live (non-zombie) processes of a process group. Zombies are left out: where PID 1 does not reap
 * orphans (some containers), a stopped server stays a zombie forever, and it holds nothing.
 */
export function liveInGroup(pgid: number): string[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => {
      const [, group, stat] = l.split(/\s+/);
      return Number(group) === pgid && stat !== undefined && !stat.startsWith('Z');
    });
}

/** whether something accepts TCP connections on host:port */
export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

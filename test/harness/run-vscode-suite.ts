/**
 * Runs the mocha suites in test/vscode inside code-server's real extension host.
 * The workbench takes extensionDevelopmentPath/extensionTestsPath from the URL payload when the
 * smoke-test driver is on, and reports the result through window.codeAutomationExit.
 */
import { format } from 'node:util';
import { mkdtempSync, readFileSync, existsSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startCodeServer, launchBrowser, newPage } from './code-server';

export interface SuiteResult {
  suite: string;
  passed: number;
  failed: number;
  pending: number;
  exitCode: number;
}

export function makeWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'moebench-ws-'));
  // never the run store or deployment records a local run left beside the samples
  cpSync(join(ROOT, 'notebooks'), join(ws, 'notebooks'), { recursive: true, filter: (src) => !src.includes('.moebench' + '/') && !src.endsWith('/.moebench') });
  mkdirSync(join(ws, 'fixtures'), { recursive: true });
  cpSync(join(ROOT, 'test/fixtures/notebooks'), join(ws, 'fixtures'), { recursive: true });
  return ws;
}

export async function runVscodeSuite(suite: 'trusted' | 'untrusted', timeoutMs = 540_000): Promise<SuiteResult> {
  const ws = makeWorkspace();
  const resultFile = join(ws, `.result-${suite}.json`);
  const cs = await startCodeServer({ workspace: ws, trust: suite === 'trusted', smokeDriver: true, env: { MOEBENCH_VSCODE_SUITE: suite, MOEBENCH_TEST_RESULT: resultFile, MOEBENCH_TEST_WORKSPACE: ws } });
  const browser = await launchBrowser();
  let exitCode = 1;
  try {
    const page = await newPage(browser);
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const line = format(...(args as [unknown, ...unknown[]]));
      // the workbench forwards all extension-host console output; keep mocha's
      const kept = line
        .split('\n')
        .filter((l) => !/^\s+at /.test(l) && !/ENOTFOUND|open-vsx|github\.com|Extension host \(Remote\)|Dialog requested during smoke test/.test(l))
        .join('\n');
      if (kept.trim()) process.stdout.write(`  ${kept.slice(0, 2000)}\n`);
    });
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://${cs.authority}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://${cs.authority}${ROOT}/out/test/index.js`],
    ]);
    await page.goto(`${cs.url}&payload=${encodeURIComponent(payload)}`);
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(124), timeoutMs).unref());
    exitCode = await Promise.race([exited, timeout]);
    if (exitCode === 124) {
      mkdirSync(join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(ROOT, `test-results/vscode-${suite}-timeout.png`) }).catch(() => undefined);
      process.stdout.write(`  suite ${suite} timed out; code-server log:\n${cs.log().slice(-4000)}\n`);
    }
  } finally {
    await browser.close().catch(() => undefined);
    await cs.stop();
  }
  let passed = 0;
  let pending = 0;
  // no result file means mocha never reported: that is a failure even if the exit code said 0
  let failed = 1;
  if (existsSync(resultFile)) {
    const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { passed: number; failed: number; pending?: number };
    passed = r.passed;
    pending = r.pending ?? 0;
    failed = r.failed + (exitCode !== 0 && r.failed === 0 ? 1 : 0);
  }
  return { suite: `vscode:${suite}`, passed, failed, pending, exitCode };
}

if (require.main === module) {
  const suites = (process.argv[2] ?? 'trusted,untrusted').split(',') as ('trusted' | 'untrusted')[];
  void (async () => {
    let bad = 0;
    for (const s of suites) {
      const r = await runVscodeSuite(s);
      process.stdout.write(`${r.suite}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending\n`);
      if (r.failed || r.exitCode || r.pending || r.passed === 0) bad++;
    }
    process.exit(bad ? 1 : 0);
  })();
}

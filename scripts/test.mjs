// The README's test command (`npm test`): installs the test tools if missing, builds, type-checks,
// lints, then runs every suite for real — unit, integration (real sshd), VS Code (code-server) and
// UI (Chromium) — and prints "N passed, N failed" per suite and in total.
// `npm test -- unit integration` runs only the named suites.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const ALL = ['static', 'unit', 'integration', 'vscode', 'e2e', 'reliability'];
const wanted = process.argv.slice(2).filter((a) => ALL.includes(a));
const suites = wanted.length ? wanted : ALL;
const results = [];
// reliability tests append their FIGURE lines here; printed after the summary
const figuresFile = join(mkdtempSync(join(tmpdir(), 'moebench-figures-')), 'figures.txt');
process.env.MOEBENCH_FIGURES_FILE = figuresFile;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function findTests(dir, pattern = /\.test\.ts$/) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const name of readdirSync(abs)) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) out.push(...findTests(relative(root, p), pattern));
    else if (pattern.test(name)) out.push(relative(root, p));
  }
  return out.sort();
}

function nodeTests(name, files, timeoutMs, suiteTimeoutMs) {
  if (files.length === 0) {
    results.push({ name, passed: 0, failed: 0, note: 'no tests' });
    return;
  }
  const tap = join(mkdtempSync(join(tmpdir(), 'moebench-tap-')), 'out.tap');
  console.log(`\n=== ${name}: ${files.length} files ===`);
  // the spawn timeout bounds a whole suite, so a test file that leaves a handle open after a
  // failure cannot hang CI (--test-force-exit would, but it drops the TAP file the counts come from)
  const code = run(process.execPath, ['--import', 'tsx', '--test', `--test-timeout=${timeoutMs}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { timeout: suiteTimeoutMs, killSignal: 'SIGKILL' });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(text) ?? [])[1] ?? 0);
  const failed = num('fail') + num('cancelled');
  results.push({ name, passed: num('pass'), failed: failed || (code !== 0 ? 1 : 0) });
}

if (!process.env.MOEBENCH_SKIP_TOOLS && suites.some((s) => ['integration', 'vscode', 'e2e', 'reliability'].includes(s))) {
  if (run('bash', [join(root, 'scripts/install-tools.sh')]) !== 0) {
    console.error('installing the test tools failed');
    process.exit(1);
  }
}
if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);

for (const suite of suites) {
  if (suite === 'static') {
    console.log('\n=== static: tsc + eslint ===');
    const tsc = run('npx', ['tsc', '-p', '.', '--noEmit']);
    const lint = run('npx', ['eslint', 'src', 'test', 'scripts']);
    results.push({ name: 'static', passed: (tsc === 0) + (lint === 0), failed: (tsc !== 0) + (lint !== 0) });
  } else if (suite === 'unit') {
    nodeTests('unit', findTests('test/unit'), 60_000, 10 * 60_000);
  } else if (suite === 'integration') {
    nodeTests('integration', findTests('test/integration'), 180_000, 20 * 60_000);
  } else if (suite === 'reliability') {
    nodeTests('reliability', findTests('test/reliability'), 600_000, 20 * 60_000);
  } else if (suite === 'vscode') {
    console.log('\n=== vscode: mocha inside code-server ===');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/run-vscode-suite.ts', 'trusted,untrusted'], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    process.stdout.write(r.stdout ?? '');
    const lines = [...(r.stdout ?? '').matchAll(/^(vscode:\w+): (\d+) passed, (\d+) failed$/gm)];
    for (const m of lines) results.push({ name: m[1], passed: Number(m[2]), failed: Number(m[3]) });
    if (lines.length === 0 || r.status !== 0) results.push({ name: 'vscode (runner)', passed: 0, failed: r.status === 0 ? 0 : 1 });
  } else if (suite === 'e2e') {
    nodeTests('e2e', findTests('test/e2e'), 300_000, 10 * 60_000);
  }
}

function summarize() {
  let p = 0;
  let f = 0;
  console.log('\n=== summary ===');
  for (const r of results) {
    console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed${r.note ? ` (${r.note})` : ''}`);
    p += r.passed;
    f += r.failed;
  }
  if (existsSync(figuresFile)) console.log(`\n=== figures ===\n${readFileSync(figuresFile, 'utf8').trim()}`);
  console.log(`TOTAL: ${p} passed, ${f} failed`);
  process.exit(f ? 1 : 0);
}
summarize();

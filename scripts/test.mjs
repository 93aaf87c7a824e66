// The README's test command (`npm test`): installs the test tools if missing, builds, type-checks,
// lints, checks the dependency rules, then runs every suite for real — unit, integration (real sshd), VS Code (code-server) and
// UI (Chromium) — and prints "N passed, N failed" per suite and in total.
// `npm test -- unit integration` runs only the named suites.
// Honest by construction: skipped, todo and cancelled tests are counted and printed, and are red
// unless scripts/tap-summary.mjs allows them by name with a reason; a todo that throws, a test
// file with no tests, a suite with no passing test, `.only` left in a test file, and a VS Code
// run that prints no suite line are all failures.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { summarizeTap, onlyMarkers } from './tap-summary.mjs';

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

/** `.only` anywhere in these files makes the runner (with --test-only) or a reader skip the rest */
function onlyProblems(files) {
  const problems = [];
  for (const f of files) {
    for (const line of onlyMarkers(readFileSync(join(root, f), 'utf8'))) problems.push(`.only left in ${f}:${line}`);
  }
  return problems;
}

function nodeTests(name, files, timeoutMs, suiteTimeoutMs) {
  if (files.length === 0) {
    results.push({ name, passed: 0, failed: 1, problems: ['no test files found: an empty suite is not a green suite'] });
    return;
  }
  const tap = join(mkdtempSync(join(tmpdir(), 'moebench-tap-')), 'out.tap');
  console.log(`\n=== ${name}: ${files.length} files ===`);
  // the spawn timeout bounds a whole suite, so a test file that leaves a handle open after a
  // failure cannot hang CI (--test-force-exit would, but it drops the TAP file the counts come from)
  const code = run(process.execPath, ['--import', 'tsx', '--test', `--test-timeout=${timeoutMs}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { timeout: suiteTimeoutMs, killSignal: 'SIGKILL' });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const s = summarizeTap(text, { files });
  const extra = onlyProblems(files);
  if (!text) extra.push('no TAP output (the suite was killed or crashed before reporting)');
  // a non-zero exit with nothing counted as failed still fails (a crash outside any test)
  if (code !== 0 && s.failed === 0 && extra.length === 0) extra.push(`node --test exited ${code} with no failed test`);
  const problems = [...s.problems, ...extra];
  const failed = s.failed + extra.length;
  results.push({ name, passed: s.passed, failed, skipped: s.skipped, todo: s.todo, cancelled: s.cancelled, problems });
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
    console.log('\n=== static: tsc + eslint + dependency rules ===');
    const tsc = run('npx', ['tsc', '-p', '.', '--noEmit']);
    const lint = run('npx', ['eslint', 'src', 'test', 'scripts']);
    // no import of cells/ from below it, no cycle between src/core folders (scripts/check-deps.mjs)
    const deps = run(process.execPath, ['scripts/check-deps.mjs']);
    const codes = [tsc, lint, deps];
    results.push({ name: 'static', passed: codes.filter((c) => c === 0).length, failed: codes.filter((c) => c !== 0).length });
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
    const lines = [...(r.stdout ?? '').matchAll(/^(vscode:\w+): (\d+) passed, (\d+) failed(?:, (\d+) pending)?$/gm)];
    for (const m of lines) {
      const pending = Number(m[4] ?? 0);
      const problems = [];
      if (Number(m[2]) === 0) problems.push('no test passed: an empty suite is not a green suite');
      if (pending > 0) problems.push(`${pending} pending (skipped) mocha tests`);
      results.push({ name: m[1], passed: Number(m[2]), failed: Number(m[3]) + problems.length, skipped: pending, problems });
    }
    const vscodeFiles = findTests('test/vscode', /\.test\.ts$/);
    const only = onlyProblems(vscodeFiles);
    if (only.length) results.push({ name: 'vscode (sources)', passed: 0, failed: only.length, problems: only });
    // every suite asked for must report; a run that printed nothing is not a pass
    const missing = ['trusted', 'untrusted'].filter((x) => !lines.some((m) => m[1] === `vscode:${x}`));
    if (missing.length || r.status !== 0) {
      results.push({ name: 'vscode (runner)', passed: 0, failed: missing.length + (r.status !== 0 ? 1 : 0), problems: [...missing.map((x) => `no "vscode:${x}: N passed, N failed" line`), ...(r.status !== 0 ? [`runner exited ${r.status}`] : [])] });
    }
  } else if (suite === 'e2e') {
    nodeTests('e2e', findTests('test/e2e'), 300_000, 10 * 60_000);
  }
}

function summarize() {
  let p = 0;
  let f = 0;
  const notRun = { skipped: 0, todo: 0, cancelled: 0 };
  console.log('\n=== summary ===');
  for (const r of results) {
    const extra = `${r.skipped ?? 0} skipped, ${r.todo ?? 0} todo, ${r.cancelled ?? 0} cancelled`;
    console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed (${extra})`);
    for (const problem of r.problems ?? []) console.log(`  ! ${problem}`);
    p += r.passed;
    f += r.failed;
    notRun.skipped += r.skipped ?? 0;
    notRun.todo += r.todo ?? 0;
    notRun.cancelled += r.cancelled ?? 0;
  }
  if (existsSync(figuresFile)) console.log(`\n=== figures ===\n${readFileSync(figuresFile, 'utf8').trim()}`);
  console.log(`TOTAL: ${p} passed, ${f} failed (${notRun.skipped} skipped, ${notRun.todo} todo, ${notRun.cancelled} cancelled)`);
  process.exit(f ? 1 : 0);
}
summarize();

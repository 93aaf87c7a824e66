/**
 * The harness's honesty (scripts/tap-summary.mjs, used by `npm test`): each case runs real
 * `node --test` on small test files written here and summarizes its real TAP output, so the
 * rules follow what this Node version actually prints.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { judgeNodeSuite, judgeVscodeOutput, onlyMarkers, summarizeTap } from '../../../scripts/tap-summary.mjs';

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  cancelled: number;
  tests: number;
  problems: string[];
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-tap-summary-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** write the given test files, run them with node --test, return the summary of the TAP file */
function runTap(files: Record<string, string>, allowed?: Map<string, string>): Summary {
  const caseDir = path.join(dir, `case${++n}`);
  mkdirSync(caseDir, { recursive: true });
  const names = Object.keys(files);
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(caseDir, name), body);
  const tap = path.join(caseDir, 'out.tap');
  try {
    // without NODE_TEST_CONTEXT the child is a top-level runner, not a reporter for this one
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    execFileSync(process.execPath, ['--test', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...names], { cwd: caseDir, stdio: 'ignore', env });
  } catch {
    // a failing run exits 1; the TAP file is what counts
  }
  const s = summarizeTap(readFileSync(tap, 'utf8'), { files: names, ...(allowed ? { allowed } : {}) }) as Summary;
  return s;
}

const header = "import { test } from 'node:test';\n";

describe('TAP summary: what did not run is counted and red', () => {
  test('plain passes and a failure are counted as such', () => {
    const s = runTap({ 'a.test.mjs': `${header}test('p1', () => {});\ntest('p2', () => {});\ntest('f', () => { throw new Error('x'); });\n` });
    assert.equal(s.passed, 2);
    assert.equal(s.failed, 1);
  });

  test('an all-passing file is green with no problems', () => {
    const s = runTap({ 'a.test.mjs': `${header}test('p1', () => {});\n` });
    assert.deepEqual([s.passed, s.failed, s.problems], [1, 0, []]);
  });

  test('a todo that throws is a failure, not a pass', () => {
    const s = runTap({ 'a.test.mjs': `${header}test('p', () => {});\ntest('later', { todo: true }, () => { throw new Error('not done'); });\n` });
    assert.equal(s.todo, 1);
    assert.ok(s.failed >= 1, JSON.stringify(s));
    assert.ok(s.problems.some((p) => /todo test threw: later/.test(p)), s.problems.join('\n'));
  });

  test('a skipped test is counted and red unless allowed by name with a reason', () => {
    const files = { 'a.test.mjs': `${header}test('p', () => {});\ntest('needs a gpu', { skip: 'no GPU here' }, () => {});\ntest('dyn', (t) => { t.skip('tool missing'); });\n` };
    const s = runTap(files);
    assert.equal(s.skipped, 2);
    assert.equal(s.failed, 2, JSON.stringify(s));
    assert.ok(s.problems.some((p) => p.includes('needs a gpu') && p.includes('no GPU here')));
    const allowed = runTap(files, new Map([['needs a gpu', 'CI has no GPU'], ['dyn', 'documented']]));
    assert.equal(allowed.skipped, 2);
    assert.equal(allowed.failed, 0, JSON.stringify(allowed));
  });

  test('a passing todo is red too (it is unfinished work), unless allowed', () => {
    const s = runTap({ 'a.test.mjs': `${header}test('p', () => {});\ntest.todo('write me');\n` });
    assert.equal(s.todo, 1);
    assert.equal(s.failed, 1);
  });

  test('a test file that declares no test is a failure, not one pass', () => {
    const s = runTap({ 'empty.test.mjs': '// forgot the tests\nexport {};\n', 'a.test.mjs': `${header}test('p', () => {});\n` });
    assert.equal(s.passed, 1, JSON.stringify(s));
    assert.equal(s.failed, 1);
    assert.ok(s.problems.some((p) => /declares no tests: .*empty\.test\.mjs/.test(p)), s.problems.join('\n'));
  });

  test('a suite where nothing passed is red: zero tests, or only skips', () => {
    const empty = summarizeTap('', { files: [] }) as Summary;
    assert.ok(empty.failed >= 1);
    const onlySkips = runTap({ 'a.test.mjs': `${header}test('s', { ${'skip'}: true }, () => {});\n` }, new Map([['s', 'allowed']]));
    assert.equal(onlySkips.passed, 0);
    assert.ok(onlySkips.failed >= 1, JSON.stringify(onlySkips));
  });

  test('cancelled tests are failures', () => {
    const s = runTap({ 'a.test.mjs': `${header}test('p', () => {});\ntest('parent', (t) => { t.test('child', async () => { await new Promise((r) => setTimeout(r, 50)); }); });\n` });
    // Node 20: the parent fails (# fail 1) and the child it left running is cancelled (# cancelled 1)
    assert.equal(s.cancelled, 1, JSON.stringify(s));
    assert.equal(s.failed, 2, JSON.stringify(s));
  });
});

describe('.only markers in test sources', () => {
  // the markers are assembled at run time, so this file itself carries none (the harness scans it)
  const dotOnly = '.' + 'only';
  const onlyTrue = 'only' + ': true';
  test('test.only, describe.only, it.only and the only option are found with their line', () => {
    assert.deepEqual(onlyMarkers(`test('a', () => {});\ntest${dotOnly}('b', () => {});\ndescribe${dotOnly}('c', () => {});\nit${dotOnly}('d');\ntest('e', { ${onlyTrue} }, () => {});\n`), [2, 3, 4, 5]);
  });
  test('words like "only" in names are not markers', () => {
    assert.deepEqual(onlyMarkers("test('runs only the named cells', () => {});\nconst only = args.values.cell;\n"), []);
  });
});

describe("the runner's own rules (scripts/test.mjs judges each suite run with these)", () => {
  const green = `TAP version 13\nok 1 - a\n1..1\n# tests 1\n# suites 0\n# pass 1\n# fail 0\n# cancelled 0\n# skipped 0\n# todo 0\n`;
  test('a node suite with no test files, no TAP output or a crash outside any test is red', () => {
    const none = judgeNodeSuite('unit', { files: [], tap: '', exitCode: 0 });
    assert.equal(none.failed, 1);
    assert.match(none.problems.join('\n'), /no test files found/);
    const killed = judgeNodeSuite('unit', { files: ['a.test.ts'], tap: '', exitCode: 1 });
    assert.ok(killed.failed >= 1);
    assert.match(killed.problems.join('\n'), /no TAP output/);
    const crashed = judgeNodeSuite('unit', { files: ['a.test.ts'], tap: green, exitCode: 7 });
    assert.equal(crashed.passed, 1);
    assert.equal(crashed.failed, 1);
    assert.match(crashed.problems.join('\n'), /node --test exited 7 with no failed test/);
    const stray = judgeNodeSuite('unit', { files: ['a.test.ts'], tap: green, exitCode: 0, onlyProblems: ['.only left in a.test.ts:3'] });
    assert.equal(stray.failed, 1);
    // and the real green case stays green
    const ok = judgeNodeSuite('unit', { files: ['a.test.ts'], tap: green, exitCode: 0 });
    assert.deepEqual([ok.passed, ok.failed, ok.problems], [1, 0, []]);
  });

  test('a VS Code run is green only when every suite printed its line with a pass, nothing pending, and the runner exited 0', () => {
    const both = 'vscode:trusted: 12 passed, 0 failed\nvscode:untrusted: 3 passed, 0 failed\n';
    assert.deepEqual(judgeVscodeOutput(both, 0, ['trusted', 'untrusted']).map((r) => [r.name, r.passed, r.failed]), [
      ['vscode:trusted', 12, 0],
      ['vscode:untrusted', 3, 0],
    ]);
    const failedOf = (out: string, code = 0): number => judgeVscodeOutput(out, code, ['trusted', 'untrusted']).reduce((a, r) => a + r.failed, 0);
    // a suite with no passing test
    assert.equal(failedOf('vscode:trusted: 0 passed, 0 failed\nvscode:untrusted: 3 passed, 0 failed\n'), 1);
    // pending (skipped) mocha tests
    assert.equal(failedOf('vscode:trusted: 12 passed, 0 failed, 2 pending\nvscode:untrusted: 3 passed, 0 failed\n'), 1);
    // a suite that printed no line, and a run that printed nothing at all
    assert.equal(failedOf('vscode:trusted: 12 passed, 0 failed\n'), 1);
    assert.equal(failedOf(''), 2);
    // a runner that exited non-zero after printing green lines
    assert.equal(failedOf(both, 1), 1);
    assert.match(judgeVscodeOutput(both, 1, ['trusted', 'untrusted']).flatMap((r) => r.problems).join('\n'), /runner exited 1/);
  });
});

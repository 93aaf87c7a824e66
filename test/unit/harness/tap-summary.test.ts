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
import { onlyMarkers, summarizeTap } from '../../../scripts/tap-summary.mjs';

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

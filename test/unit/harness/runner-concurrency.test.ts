/**
 * `npm test` runs test files side by side (scripts/test.mjs: --test-concurrency per suite). The
 * honest counts must not depend on it: the same files give the same summary one at a time and
 * three at a time (a skip, a todo and a file without tests stay failures).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { summarizeTap } from '../../../scripts/tap-summary.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-runner-concurrency-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const header = "import { test } from 'node:test';\n";
const FILES: Record<string, string> = {
  'a.test.mjs': `${header}test('p1', () => {});\ntest('s', { ${'skip'}: true }, () => {});\n`,
  'b.test.mjs': `${header}test('p2', async () => { await new Promise((r) => setTimeout(r, 30)); });\ntest('f', () => { throw new Error('x'); });\n`,
  'c.test.mjs': `${header}test.${'todo'}('write me');\ntest('p3', () => {});\n`,
  'empty.test.mjs': '// forgot the tests\nexport {};\n',
};
for (const [name, body] of Object.entries(FILES)) writeFileSync(path.join(dir, name), body);

function summary(concurrency: number) {
  const tap = path.join(dir, `out-${concurrency}.tap`);
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  try {
    execFileSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...Object.keys(FILES)], { cwd: dir, stdio: 'ignore', env });
  } catch {
    // a failing run exits 1; the TAP file is what counts
  }
  const s = summarizeTap(readFileSync(tap, 'utf8'), { files: Object.keys(FILES) });
  return { ...s, problems: [...s.problems].map((p) => p.replace(dir + path.sep, '')).sort() };
}

test('test files run three at a time are counted exactly as one at a time: skips, todos and empty files stay red', () => {
  const serial = summary(1);
  const parallel = summary(3);
  assert.deepEqual(parallel, serial);
  assert.equal(serial.passed, 3);
  // the thrown test, the unallowed skip, the unallowed todo, the file without tests
  assert.equal(serial.failed, 4);
  assert.ok(serial.problems.some((p) => p.includes('empty.test.mjs')), serial.problems.join('; '));
});

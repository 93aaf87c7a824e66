// Counts of one `node --test` TAP file (Node 20), honest about what did not run: skipped, todo and
// cancelled tests are counted and named; a todo that throws (`not ok ... # TODO`, which Node 20
// counts neither as a pass nor as a failure) is a failure; a test file that declared no test at all
// (Node 20 reports the file itself as one passing test) is a failure; zero tests is a failure.
// Used by scripts/test.mjs; tested by test/unit/harness/tap-summary.test.ts.

/** test names that may be skipped or todo, each with the reason; anything else not run is red */
export const ALLOWED_NOT_RUN = new Map([
  // ['exact test name', 'why it may not run'],
]);

const RESULT = /^(\s*)(ok|not ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$/;

/**
 * @param {string} text the TAP output
 * @param {{ files?: string[], allowed?: Map<string, string> }} [options] files: the test files given to node --test
 * @returns {{ passed: number, failed: number, skipped: number, todo: number, cancelled: number, tests: number, problems: string[] }}
 */
export function summarizeTap(text, options = {}) {
  const allowed = options.allowed ?? ALLOWED_NOT_RUN;
  const files = new Set((options.files ?? []).map((f) => f.replace(/\\/g, '/')));
  const num = (k) => Number((new RegExp(`^# ${k} (\\d+)`, 'm').exec(text) ?? [])[1] ?? 0);
  const problems = [];
  let passed = num('pass');
  let failed = num('fail');
  const cancelled = num('cancelled');
  const skipped = num('skipped');
  const todo = num('todo');
  const tests = num('tests');
  let unlisted = 0;
  for (const line of text.split('\n')) {
    const m = RESULT.exec(line);
    if (!m) continue;
    const [, indent, status, name, directive, reason] = m;
    if (directive === 'TODO' && status === 'not ok') {
      failed++;
      problems.push(`todo test threw: ${name}`);
    } else if (directive) {
      if (!allowed.has(name)) {
        unlisted++;
        problems.push(`${directive === 'SKIP' ? 'skipped' : 'todo'} without an allowed reason: ${name}${reason ? ` (${reason})` : ''}`);
      }
    } else if (indent === '' && status === 'ok' && [...files].some((f) => name.replace(/\\/g, '/').endsWith(f))) {
      // Node 20 reports a file that registered no test as one passing test named by its path
      passed--;
      failed++;
      problems.push(`test file declares no tests: ${name}`);
    }
  }
  if (cancelled > 0) problems.push(`${cancelled} cancelled (a timeout, or a parent test that ended first)`);
  if (tests === 0 || passed <= 0) problems.push('no test passed: an empty suite is not a green suite');
  return {
    passed: Math.max(0, passed),
    failed: failed + cancelled + unlisted + (tests === 0 || passed <= 0 ? 1 : 0),
    skipped,
    todo,
    cancelled,
    tests,
    problems,
  };
}

/** `test.only` / `describe.only` / `it.only` / `{ only: true }` in a test source: everything else would silently not run */
export function onlyMarkers(source) {
  const hits = [];
  source.split('\n').forEach((line, i) => {
    if (/\b(test|it|describe|suite)\.only\s*\(|\bonly:\s*true\b/.test(line)) hits.push(i + 1);
  });
  return hits;
}

/**
 * One `node --test` suite run, judged: the TAP counts plus the rules that need the run itself.
 * No test files, no TAP output (killed or crashed before reporting), `.only` markers and a non-zero
 * exit with no failed test are each a failure: a suite is green only when it ran and said so.
 */
export function judgeNodeSuite(name, { files, tap, exitCode, onlyProblems = [] }) {
  if (files.length === 0) return { name, passed: 0, failed: 1, skipped: 0, todo: 0, cancelled: 0, problems: ['no test files found: an empty suite is not a green suite'] };
  const s = summarizeTap(tap, { files });
  const extra = [...onlyProblems];
  if (!tap) extra.push('no TAP output (the suite was killed or crashed before reporting)');
  // a non-zero exit with nothing counted as failed still fails (a crash outside any test)
  if (exitCode !== 0 && s.failed === 0 && extra.length === 0) extra.push(`node --test exited ${exitCode} with no failed test`);
  return { name, passed: s.passed, failed: s.failed + extra.length, skipped: s.skipped, todo: s.todo, cancelled: s.cancelled, problems: [...s.problems, ...extra] };
}

/**
 * The VS Code suites' runner output (test/harness/run-vscode-suite.ts prints one
 * "vscode:<suite>: N passed, N failed[, N pending]" line per suite), judged: a suite with no
 * passing test, pending (skipped) mocha tests, a suite that printed no line and a runner that
 * exited non-zero are each a failure.
 */
export function judgeVscodeOutput(output, exitCode, expected) {
  const results = [];
  const lines = [...output.matchAll(/^(vscode:\w+): (\d+) passed, (\d+) failed(?:, (\d+) pending)?$/gm)];
  for (const m of lines) {
    const pending = Number(m[4] ?? 0);
    const problems = [];
    if (Number(m[2]) === 0) problems.push('no test passed: an empty suite is not a green suite');
    if (pending > 0) problems.push(`${pending} pending (skipped) mocha tests`);
    results.push({ name: m[1], passed: Number(m[2]), failed: Number(m[3]) + problems.length, skipped: pending, problems });
  }
  // every suite asked for must report; a run that printed nothing is not a pass
  const missing = expected.filter((x) => !lines.some((m) => m[1] === `vscode:${x}`));
  if (missing.length || exitCode !== 0) {
    results.push({ name: 'vscode (runner)', passed: 0, failed: missing.length + (exitCode !== 0 ? 1 : 0), problems: [...missing.map((x) => `no "vscode:${x}: N passed, N failed" line`), ...(exitCode !== 0 ? [`runner exited ${exitCode}`] : [])] });
  }
  return results;
}

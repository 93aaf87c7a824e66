/** Mocha entry loaded by VS Code's extension host (extensionTestsPath). */
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  const suite = process.env.MOEBENCH_VSCODE_SUITE ?? 'trusted';
  // required after pre-require so describe/it exist; esbuild keeps these requires lazy
  if (suite === 'untrusted') require('./untrusted.test');
  else require('./notebook.test');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // pending (it.skip, it without a body) is reported so the harness can refuse a green-by-omission run
      const result = { passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? failures, pending: runner.stats?.pending ?? 0 };
      console.log(`${result.passed} passed, ${result.failed} failed, ${result.pending} pending`);
      if (process.env.MOEBENCH_TEST_RESULT) writeFileSync(process.env.MOEBENCH_TEST_RESULT, JSON.stringify(result));
      if (failures) reject(new Error(`${failures} tests failed`));
      else resolve();
    });
  });
}

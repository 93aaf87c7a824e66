/**
 * The same extension-host suites on desktop VS Code through @vscode/test-electron — for people
 * with internet access (it downloads VS Code). CI is offline and uses code-server instead
 * (test/harness/run-vscode-suite.ts).
 */
import { runTests } from '@vscode/test-electron';
import { join } from 'node:path';
import { ROOT } from './code-server';
import { makeWorkspace } from './run-vscode-suite';

void (async () => {
  const ws = makeWorkspace();
  try {
    await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out/test/index.js'),
      launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust'],
      extensionTestsEnv: { MOEBENCH_VSCODE_SUITE: 'trusted', MOEBENCH_TEST_WORKSPACE: ws },
    });
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
})();

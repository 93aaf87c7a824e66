/**
 * Puts the bench_serving stand-in (test/fixtures/runners/bench-serving-standin.mjs) on a node's
 * PATH: a `python3` wrapper in the bin dir that runs it for the SGLang benchmark modules chosen,
 * answers "No module named ..." (as Python does) for the others, and hands everything else to
 * the python3 that was there (the sim cluster's own shim).
 */
import { access, chmod, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { quoteArg } from '../../../src/core/launch/shell/shell-quote';

export const STANDIN = path.join(__dirname, '..', '..', 'fixtures', 'runners', 'bench-serving-standin.mjs');

export async function installStandin(binDir: string, modules: readonly ('sglang.bench_serving' | 'sglang.benchmark.serving')[]): Promise<void> {
  const original = path.join(binDir, 'python3.orig');
  // installing again (other modules) keeps the first original
  const installed = await access(original).then(() => true, () => false);
  if (!installed) await rename(path.join(binDir, 'python3'), original);
  const run = `exec ${quoteArg(process.execPath)} ${quoteArg(STANDIN)} "$@"`;
  const cases = modules.map((m) => `    ${m}) shift 2; ${run} ;;`).join('\n');
  const text = `#!/bin/sh
if [ "$1" = "-m" ]; then
  case "$2" in
${cases}
    sglang.bench_serving|sglang.benchmark.serving)
      echo "/usr/bin/python3: Error while finding module specification for '$2' (ModuleNotFoundError: No module named '$2')" >&2; exit 1 ;;
  esac
fi
exec ${quoteArg(original)} "$@"
`;
  const p = path.join(binDir, 'python3');
  await writeFile(p, text);
  await chmod(p, 0o755);
}

/**
 * Test helper: the emulator's CLI bundled once with esbuild (just `moebench sim`, so the test
 * does not depend on the full CLI build), and a bin directory of the sim cluster's own shims
 * (`python3 -m sglang.launch_server` / `-m sglang_router.launch_router` run the emulator) for
 * clusters that are not sim clusters: put `binDir` first on a local cluster's PATH. The local
 * bin has no `nvidia-smi`, like this machine, so the "no nvidia-smi" path is exercised.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { writeSimShims } from '../../../src/core/sim/shims';

const ROOT = path.join(__dirname, '..', '..', '..');

export interface EmulatorBin {
  /** `node <cliPath> sim ...` runs the emulator (createSimCluster's cliPath) */
  cliPath: string;
  /** holds `python3` (and `python`, `sglang`) shims, no `nvidia-smi` */
  binDir: string;
  dispose(): Promise<void>;
}

export async function emulatorBin(): Promise<EmulatorBin> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-emu-'));
  const entry = path.join(dir, 'entry.ts');
  const sim = path.join(ROOT, 'src', 'cli', 'commands', 'sim');
  await writeFile(entry, `import { simCommand } from ${JSON.stringify(sim)};\nconst argv = process.argv.slice(2);\nif (argv[0] !== 'sim') process.exit(2);\nsimCommand(argv.slice(1)).then((c) => process.exit(c));\n`);
  const cliPath = path.join(dir, 'cli.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: cliPath, logLevel: 'error' });
  const binDir = path.join(dir, 'bin');
  await writeSimShims(binDir, { cliPath });
  await unlink(path.join(binDir, 'nvidia-smi'));
  return { cliPath, binDir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Test helper: the emulator's CLI bundled with esbuild (`moebench sim ...` plus the fake
 * `dcgmi` of issue 11, until the lead wires `sim dcgmi` into the real CLI).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..', '..');

export interface DeepEmulator {
  cliPath: string;
  dispose(): Promise<void>;
}

export async function deepEmulator(): Promise<DeepEmulator> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-deep-emu-'));
  const entry = path.join(dir, 'entry.ts');
  const sim = path.join(ROOT, 'src', 'cli', 'commands', 'sim');
  const dcgmi = path.join(ROOT, 'src', 'core', 'sim', 'deep', 'dcgmi');
  await writeFile(
    entry,
    `import { simCommand } from ${JSON.stringify(sim)};
import { dcgmiCommand } from ${JSON.stringify(dcgmi)};
const argv = process.argv.slice(2);
if (argv[0] !== 'sim') process.exit(2);
const run = argv[1] === 'dcgmi' ? dcgmiCommand(argv.slice(2), process.stdout, process.stderr) : simCommand(argv.slice(1));
run.then((c) => process.exit(c));
`,
  );
  const cliPath = path.join(dir, 'cli.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: cliPath, logLevel: 'error' });
  return { cliPath, dispose: () => rm(dir, { recursive: true, force: true }) };
}

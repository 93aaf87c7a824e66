/**
 * Test helper: makes the real-sshd lab's nodes look like GPU nodes with SGLang, with emulated GPU
 * load. The lab's shim directory (first on every node's PATH) gets `python3` and `nvidia-smi`
 * wrappers around the sim shims; both export one state directory, so the fake nvidia-smi on a
 * node (NODE_NAME comes from sshd's SetEnv) reads the busy fraction the emulated server on that
 * node writes. Zero-cost mode stays off: the emulator spends modelled GPU time, so utilisation
 * follows the load.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { quoteArg } from '../../../src/core/launch/shell/shell-quote';
import { writeSimShims } from '../../../src/core/sim/shims';
import type { Lab } from '../../lab/lab';

export interface LabSim {
  /** where emulated servers write their GPU state (`<dir>/<node>/gpu-<pid>-<port>.json`) */
  stateDir: string;
}

export async function installLabSim(lab: Lab, emulatorCliPath: string): Promise<LabSim> {
  // the lab user must read the bundle and write the state: keep both under the lab directory
  const simDir = path.join(lab.dir, 'sim');
  await mkdir(simDir, { recursive: true });
  await chmod(simDir, 0o755);
  const cliPath = path.join(simDir, 'cli.js');
  await copyFile(emulatorCliPath, cliPath);
  await chmod(cliPath, 0o644);
  const simBin = path.join(simDir, 'bin');
  await writeSimShims(simBin, { cliPath });
  await chmod(simBin, 0o755);
  const stateDir = path.join(lab.dir, 'sim-state');
  await mkdir(stateDir, { recursive: true });
  // sticky and world-writable like /tmp: the servers run as the lab user, this test as root
  await chmod(stateDir, 0o1777);

  const state = `export MOEBENCH_SIM_STATE_DIR=${quoteArg(stateDir)}`;
  // bind 0.0.0.0 like SGLang's --host 0.0.0.0 (the emulator maps wildcards to this address)
  const wrappers: [string, string][] = [
    ['python3', `#!/bin/sh\n${state}\nexport MOEBENCH_SIM_NODE_ADDRESS=0.0.0.0\nexec ${quoteArg(path.join(simBin, 'python3'))} "$@"\n`],
    ['nvidia-smi', `#!/bin/sh\n${state}\nexec ${quoteArg(path.join(simBin, 'nvidia-smi'))} "$@"\n`],
  ];
  for (const [name, text] of wrappers) {
    const p = path.join(lab.shimDir, name);
    await writeFile(p, text);
    await chmod(p, 0o755);
  }
  return { stateDir };
}

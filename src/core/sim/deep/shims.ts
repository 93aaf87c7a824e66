import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteArg } from '../../launch/shell/shell-quote';

export interface DeepShimOptions {
  /**
   * The command that runs the fake dcgmi, before its own arguments. Default: the bundled CLI
   * (`node out/cli.js sim dcgmi`); tests can run the source (`node --import tsx .../dcgmi-main.ts`).
   */
  dcgmiCommand: readonly string[];
}

/**
 * Adds `dcgmi` to an emulated node's shim directory (beside the fake nvidia-smi). The IB
 * counters need no shim: the sampler reads the emulator's fake sysfs (ib-sysfs.ts).
 */
export async function writeDeepShims(binDir: string, o: DeepShimOptions): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const cmd = o.dcgmiCommand.map(quoteArg).join(' ');
  const text = `#!/bin/sh
# moebench sim shim: DCGM profiling counters of this node's emulated GPUs
exec ${cmd} "$@"
`;
  await writeFile(join(binDir, 'dcgmi'), text);
  await chmod(join(binDir, 'dcgmi'), 0o755);
}

/** argv prefix of the bundled CLI's fake dcgmi */
export function cliDcgmiCommand(cliPath: string, nodePath = process.execPath): string[] {
  return [nodePath, cliPath, 'sim', 'dcgmi'];
}

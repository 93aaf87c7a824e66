import { writeDeepShims, cliDcgmiCommand } from './deep/shims';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { quoteArg } from '../launch/shell/shell-quote';

export interface ShimOptions {
  /** the bundled CLI (out/cli.js) */
  cliPath: string;
  /** node binary; default: the one running now */
  nodePath?: string;
  /** the python3 to fall through to; default: /usr/bin/python3, else the first on PATH outside binDir */
  realPython?: string | null;
}

function findRealPython(binDir: string): string | null {
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir === binDir) continue;
    const p = join(dir, 'python3');
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Writes executable shims into binDir so an emulated node looks like a GPU node with SGLang:
 * `nvidia-smi` -> `moebench sim nvidia-smi`; `python3 -m sglang.launch_server` and
 * `python3 -m sglang_router.launch_router` (also `sglang serve`) -> the emulator; any other
 * python3 invocation runs the real interpreter. All paths are quoted by the one quoting function.
 */
export async function writeSimShims(binDir: string, options: ShimOptions): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const node = quoteArg(options.nodePath ?? process.execPath);
  const cli = quoteArg(options.cliPath);
  const real = options.realPython === undefined ? findRealPython(binDir) : options.realPython;
  const fallThrough = real ? `exec ${quoteArg(real)} "$@"` : `echo "python3: not found" >&2\nexit 127`;
  const python = `#!/bin/sh
# moebench sim shim: SGLang entry points go to the emulator, everything else to the real python3
if [ "$1" = "-m" ]; then
  case "$2" in
    sglang.launch_server) shift 2; exec ${node} ${cli} sim launch-server "$@" ;;
    sglang_router.launch_router) shift 2; exec ${node} ${cli} sim router "$@" ;;
  esac
fi
${fallThrough}
`;
  const smi = `#!/bin/sh
# moebench sim shim: emulated H200 GPUs of this node
exec ${node} ${cli} sim nvidia-smi "$@"
`;
  const sglang = `#!/bin/sh
# moebench sim shim: the sglang console script
if [ "$1" = "serve" ]; then shift; exec ${node} ${cli} sim launch-server "$@"; fi
echo "sglang (moebench sim): only 'sglang serve' is emulated" >&2
exit 2
`;
  for (const [name, text] of [
    ['python3', python],
    ['python', python],
    ['nvidia-smi', smi],
    ['sglang', sglang],
  ] as const) {
    const p = join(binDir, name);
    await writeFile(p, text);
    await chmod(p, 0o755);
  }
  // DCGM (dcgmi dmon) driven by the same emulated load, for the deep-telemetry collectors
  await writeDeepShims(binDir, { dcgmiCommand: cliDcgmiCommand(options.cliPath, options.nodePath ?? process.execPath) });
}

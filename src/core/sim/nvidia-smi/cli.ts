import { currentNodeGpus, type GpuSnapshot } from './gpus';
import { appsCsv, checkFields, parseFormat, queryHeader, queryRows, SmiFieldError, type CsvFormat } from './query';
import { renderList, renderNvlinkStatus, renderTable, renderTopo } from './table';
import { renderXml } from './xml';

interface Sink {
  write(s: string): unknown;
}

interface SmiArgs {
  queryGpu: string[] | null;
  queryApps: string[] | null;
  format: CsvFormat | null;
  loopMs: number | null;
  ids: number[] | null;
  q: boolean;
  xml: boolean;
  list: boolean;
  topo: boolean;
  nvlinkStatus: boolean;
}

const INVALID = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

function parse(argv: string[]): SmiArgs {
  const a: SmiArgs = { queryGpu: null, queryApps: null, format: null, loopMs: null, ids: null, q: false, xml: false, list: false, topo: false, nvlinkStatus: false };
  const value = (i: number, arg: string, name: string): [string, number] => {
    if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1), i];
    const v = argv[i + 1];
    if (v === undefined) throw new SmiFieldError(INVALID.trim());
    return [v, i + 1];
  };
  if (argv[0] === 'topo') {
    if (!argv.includes('-m') && !argv.includes('--matrix')) throw new SmiFieldError(INVALID.trim());
    a.topo = true;
    return a;
  }
  if (argv[0] === 'nvlink') {
    if (!argv.includes('-s') && !argv.includes('--status')) throw new SmiFieldError(INVALID.trim());
    a.nvlinkStatus = true;
    const i = argv.findIndex((x) => x === '-i' || x === '--id');
    if (i >= 0 && argv[i + 1] !== undefined) a.ids = argv[i + 1].split(',').map(Number);
    return a;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let v: string;
    if (arg === '--query-gpu' || arg.startsWith('--query-gpu=')) {
      [v, i] = value(i, arg, '--query-gpu');
      a.queryGpu = v.split(',').filter((s) => s.trim() !== '');
    } else if (arg === '--query-compute-apps' || arg.startsWith('--query-compute-apps=')) {
      [v, i] = value(i, arg, '--query-compute-apps');
      a.queryApps = v.split(',').filter((s) => s.trim() !== '');
    } else if (arg === '--format' || arg.startsWith('--format=')) {
      [v, i] = value(i, arg, '--format');
      a.format = parseFormat(v);
    } else if (arg === '-l' || arg === '--loop' || arg.startsWith('--loop=')) {
      [v, i] = value(i, arg, '--loop');
      a.loopMs = Number(v) * 1000;
    } else if (arg === '-lms' || arg === '--loop-ms' || arg.startsWith('--loop-ms=')) {
      [v, i] = value(i, arg, '--loop-ms');
      a.loopMs = Number(v);
    } else if (arg === '-i' || arg === '--id' || arg.startsWith('--id=')) {
      [v, i] = value(i, arg, '--id');
      a.ids = v.split(',').map(Number);
    } else if (arg === '-q' || arg === '--query') a.q = true;
    else if (arg === '-x' || arg === '--xml-format') a.xml = true;
    else if (arg === '-L' || arg === '--list-gpus') a.list = true;
    else throw new SmiFieldError(INVALID.trim());
    if (a.loopMs !== null && !(a.loopMs > 0)) throw new SmiFieldError(INVALID.trim());
  }
  if ((a.queryGpu || a.queryApps) && !a.format) throw new SmiFieldError('Please specify --format: e.g. --format=csv');
  return a;
}

export interface SmiOptions {
  env?: NodeJS.ProcessEnv;
  /** ends a -l/-lms stream (the CLI ends it on SIGTERM/SIGINT) */
  signal?: AbortSignal;
}

/**
 * Fake `nvidia-smi` for emulated nodes: prints this node's emulated GPUs (NODE_NAME,
 * MOEBENCH_SIM_STATE_DIR, MOEBENCH_SIM_GPUS) in the exact formats of driver 580 on H200.
 */
export async function nvidiaSmiCommand(argv: string[], stdout: Sink, stderr: Sink, options: SmiOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  let args: SmiArgs;
  try {
    args = parse(argv);
    if (args.queryGpu) checkFields(args.queryGpu);
  } catch (err) {
    if (err instanceof SmiFieldError) {
      stdout.write(`${err.message}\n\n`);
      return 2;
    }
    throw err;
  }
  const select = (gpus: GpuSnapshot[]): GpuSnapshot[] => (args.ids ? gpus.filter((g) => args.ids?.includes(g.index)) : gpus);
  const render = (first: boolean): string => {
    const now = new Date();
    const { node, gpus: all } = currentNodeGpus(env, now.getTime());
    const gpus = select(all);
    if (args.topo) return renderTopo(all.length);
    if (args.nvlinkStatus) return renderNvlinkStatus(gpus, all.length);
    if (args.list) return renderList(gpus);
    if (args.queryGpu && args.format) {
      const rows = queryRows(args.queryGpu, gpus, args.format, now);
      return (first && args.format.header ? queryHeader(args.queryGpu) + '\n' : '') + rows.map((r) => r + '\n').join('');
    }
    if (args.queryApps && args.format) {
      const lines = appsCsv(args.queryApps, gpus, { ...args.format, header: args.format.header && first }, now);
      return lines.map((l) => l + '\n').join('');
    }
    if (args.q && args.xml) return renderXml(node, gpus, now);
    if (args.q) return renderXml(node, gpus, now);
    return renderTable(gpus, now);
  };
  try {
    stdout.write(render(true));
  } catch (err) {
    if (err instanceof SmiFieldError) {
      stdout.write(`${err.message}\n\n`);
      return 2;
    }
    throw err;
  }
  if (args.loopMs === null) return 0;
  const loopMs = args.loopMs;
  // -l / -lms: one long-lived process printing a sample per interval until it is stopped
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      try {
        stdout.write(render(false));
      } catch {
        stop();
      }
    }, loopMs);
    const stop = (): void => {
      clearInterval(timer);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(0);
    };
    if (options.signal) options.signal.addEventListener('abort', stop, { once: true });
    else {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }
    const s = stdout as { on?: (ev: string, fn: () => void) => void };
    s.on?.('error', stop);
  });
}


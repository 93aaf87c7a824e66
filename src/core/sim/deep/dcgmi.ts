import { currentNodeGpus, type GpuSnapshot } from '../nvidia-smi/gpus';

interface Sink {
  write(s: string): unknown;
}

/**
 * Emulated DCGM profiling counters of one GPU, from the emulated busy fraction (util): SM
 * activity tracks util, tensor pipes are busy about half of that (MoE decode is memory-bound),
 * NVLink carries the intra-node share of the expert all-to-all. Rough, but it moves with load.
 */
export function emulatedProfiling(g: GpuSnapshot): Record<number, number> {
  const busy = Math.max(0, Math.min(1, g.utilPct / 100));
  const sm = busy * 0.82;
  return {
    1002: sm,
    1003: sm * 0.45,
    1004: sm * 0.55,
    1005: busy > 0 ? 0.12 + sm * 0.5 : 0.001,
    1009: 2e7 + busy * 8e8,
    1010: 3e7 + busy * 1.1e9,
    1011: busy * 9e10,
    1012: busy * 9e10,
  };
}

const SHORT: Record<number, string> = { 1001: 'GRACT', 1002: 'SMACT', 1003: 'SMOCC', 1004: 'TENSO', 1005: 'DRAMA', 1009: 'PCITX', 1010: 'PCIRX', 1011: 'NVLTX', 1012: 'NVLRX' };

function fmt(id: number, v: number | undefined): string {
  if (v === undefined) return 'N/A'.padEnd(12);
  return (id >= 1009 ? Math.round(v).toString() : v.toFixed(3)).padEnd(12);
}

/**
 * Fake `dcgmi` for emulated nodes: `dcgmi dmon -e <ids> [-d <ms>] [-c <count>]` in DCGM's
 * layout (see telemetry/deep/dcgm/parse.ts), streaming until stopped; `MOEBENCH_SIM_NO_DCGM=1`
 * answers like a node without a host engine (to exercise the nvidia-smi fallback).
 */
export async function dcgmiCommand(argv: string[], stdout: Sink, stderr: Sink, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<number> {
  const env = options.env ?? process.env;
  if (env.MOEBENCH_SIM_NO_DCGM === '1') {
    stdout.write('Error: Unable to connect to host engine. Host engine connection invalid/disconnected.\n');
    return 255;
  }
  if (argv[0] !== 'dmon') {
    stderr.write('dcgmi (moebench sim): only `dmon` is emulated\n');
    return 2;
  }
  let ids: number[] = [];
  let delayMs = 1000;
  let count = Infinity;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if ((a === '-e' || a === '--field-id') && v !== undefined) {
      ids = v.split(',').map(Number);
      i++;
    } else if ((a === '-d' || a === '--delay') && v !== undefined) {
      delayMs = Math.max(100, Number(v));
      i++;
    } else if ((a === '-c' || a === '--count') && v !== undefined) {
      count = Number(v);
      i++;
    } else {
      stderr.write(`dcgmi dmon: unknown option ${a}\n`);
      return 2;
    }
  }
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id))) {
    stdout.write('Error: Must specify a field id list (-e) or a field group (-f).\n');
    return 255;
  }
  stdout.write(`#Entity   ${ids.map((id) => (SHORT[id] ?? `F${id}`).padEnd(12)).join(' ')}\nID\n`);
  const tick = (): void => {
    const { gpus } = currentNodeGpus(env);
    for (const g of gpus) {
      const values = emulatedProfiling(g);
      stdout.write(`GPU ${String(g.index).padEnd(6)}${ids.map((id) => fmt(id, values[id])).join(' ')}\n`);
    }
  };
  let printed = 0;
  tick();
  if (++printed >= count) return 0;
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      try {
        tick();
      } catch {
        stop();
        return;
      }
      if (++printed >= count) stop();
    }, delayMs);
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
  });
}

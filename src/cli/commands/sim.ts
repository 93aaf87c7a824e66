import { startSimServer, type SimServerHandle } from '../../core/sim/server';
import type { FaultOptions } from '../../core/sim/faults';
import type { SimRole } from '../../core/sim/types';

const USAGE = `moebench sim — the embedded SGLang emulator

Usage:
  moebench sim serve [--role unified|prefill|decode] [--host H] [--port P] [--zero-cost | --pace-ttft-ms MS --pace-itl-ms MS] [--seed N]
                     [--model-path M] [--served-model-name N] [--time-scale X]
                     [--crash-after-requests N] [--crash-at-ms T] [--error-rate P] [--error-status S]
                     [--stall-after-tokens N --stall-ms T] [--drop-after-tokens N]
                     [--health-delay-ms T] [--health-failing]
  moebench sim launch-server <python3 -m sglang.launch_server flags>
  moebench sim router <python3 -m sglang_router.launch_router flags>
  moebench sim nvidia-smi <nvidia-smi args>`;

function takeValue(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw new CliUsageError(`${flag} needs a value`);
  return v;
}

class CliUsageError extends Error {}

function num(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliUsageError(`${flag}: not a number: ${v}`);
  return n;
}

/** Runs until SIGINT/SIGTERM (exit 0) or a crash fault (exit 1), like a real server process. */
export async function serveUntilStopped(server: SimServerHandle): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      void server.close().then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void server.crashed.then(() => {
      process.stderr.write('[simulated fault] the server crashed\n');
      resolve(1);
    });
  });
}

async function serve(argv: string[]): Promise<number> {
  let role: SimRole = 'unified';
  let host = '127.0.0.1';
  let port = 30000;
  let zeroCost = false;
  let seed = 1;
  let modelPath: string | undefined;
  let servedModelName: string | undefined;
  let timeScale = 1;
  let paceTtft: number | undefined;
  let paceItl: number | undefined;
  const faults: FaultOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--role': {
        const v = takeValue(argv, i++, a);
        if (v !== 'unified' && v !== 'prefill' && v !== 'decode') throw new CliUsageError(`--role must be unified, prefill or decode, not ${v}`);
        role = v;
        break;
      }
      case '--host':
        host = takeValue(argv, i++, a);
        break;
      case '--port':
        port = num(takeValue(argv, i++, a), a);
        break;
      case '--zero-cost':
        zeroCost = true;
        break;
      case '--seed':
        seed = num(takeValue(argv, i++, a), a);
        break;
      case '--pace-ttft-ms':
        paceTtft = num(takeValue(argv, i++, a), a);
        break;
      case '--pace-itl-ms':
        paceItl = num(takeValue(argv, i++, a), a);
        break;
      case '--model-path':
        modelPath = takeValue(argv, i++, a);
        break;
      case '--served-model-name':
        servedModelName = takeValue(argv, i++, a);
        break;
      case '--time-scale':
        timeScale = num(takeValue(argv, i++, a), a);
        break;
      case '--crash-after-requests':
        faults.crashAfterRequests = num(takeValue(argv, i++, a), a);
        break;
      case '--crash-at-ms':
        faults.crashAtMs = num(takeValue(argv, i++, a), a);
        break;
      case '--error-rate':
        faults.errorRate = num(takeValue(argv, i++, a), a);
        break;
      case '--error-status':
        faults.errorStatus = num(takeValue(argv, i++, a), a);
        break;
      case '--stall-after-tokens':
        faults.stallAfterTokens = num(takeValue(argv, i++, a), a);
        break;
      case '--stall-ms':
        faults.stallMs = num(takeValue(argv, i++, a), a);
        break;
      case '--drop-after-tokens':
        faults.dropAfterTokens = num(takeValue(argv, i++, a), a);
        break;
      case '--health-delay-ms':
        faults.healthDelayMs = num(takeValue(argv, i++, a), a);
        break;
      case '--health-failing':
        faults.healthFailing = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        return 0;
      default:
        throw new CliUsageError(`unknown option ${a}`);
    }
  }
  if ((paceTtft === undefined) !== (paceItl === undefined)) throw new CliUsageError('--pace-ttft-ms and --pace-itl-ms go together');
  if (zeroCost && paceTtft !== undefined) throw new CliUsageError('--zero-cost and --pace-* exclude each other');
  const server = await startSimServer({
    role,
    host,
    port,
    zeroCost,
    pace: paceTtft !== undefined && paceItl !== undefined ? { ttftMs: paceTtft, itlMs: paceItl } : undefined,
    seed,
    modelPath,
    servedModelName,
    timeScale,
    faults: Object.keys(faults).length ? faults : undefined,
    telemetry: telemetryFromEnv(),
    log: (line) => process.stderr.write(line + '\n'),
  });
  process.stdout.write(`${server.url}\n`);
  return serveUntilStopped(server);
}

/** MOEBENCH_SIM_STATE_DIR + NODE_NAME (set by the sim cluster) turn on GPU telemetry */
export function telemetryFromEnv(): { stateDir: string; nodeName: string } | undefined {
  const stateDir = process.env.MOEBENCH_SIM_STATE_DIR;
  const nodeName = process.env.NODE_NAME;
  return stateDir && nodeName ? { stateDir, nodeName } : undefined;
}

export async function simCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'serve':
        return await serve(rest);
      case 'launch-server':
        return await (await import('../../core/sim/launch/commands')).launchServerCommand(rest);
      case 'router':
        return await (await import('../../core/sim/launch/commands')).routerCommand(rest);
      case 'nvidia-smi':
        return await (await import('../../core/sim/nvidia-smi/cli')).nvidiaSmiCommand(rest, process.stdout, process.stderr);
      case 'dcgmi':
        return await (await import('../../core/sim/deep/dcgmi')).dcgmiCommand(rest, process.stdout, process.stderr);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        return sub ? 0 : 2;
      default:
        process.stderr.write(`moebench sim: unknown subcommand "${sub}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`moebench sim: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}

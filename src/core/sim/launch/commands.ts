import { createServer, request, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ArgparseError, ArgparseHelp, parseArgs } from './argparse';
import { SERVER_ARG_SPECS, SERVER_USAGE } from './server-args';
import { LaunchAssertionError, shapeFromArgs } from './shape-from-args';
import { bindAddress, readSimNodeEnv, type SimNodeEnv } from './node-env';
import { ROUTER_ARG_SPECS, ROUTER_USAGE } from './router-args';
import { startSimServer } from '../server';
import { startSimRouter } from '../router';
import { planMemory, NotEnoughMemoryError } from '../engine/memory';
import { GpuTelemetry, type LoadProbe } from '../telemetry/gpu-state';
import type { ServerShape } from '../shape';
import type { SimServer } from '../types';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const defaultIo: Io = { stdout: process.stdout, stderr: process.stderr };

function pythonTraceback(io: Io, err: LaunchAssertionError | NotEnoughMemoryError): void {
  const type = err instanceof LaunchAssertionError ? err.pythonType : 'RuntimeError';
  const msg = err.message.replace(/^RuntimeError: /, '');
  io.stderr.write(`Traceback (most recent call last):\n  File "/sgl-workspace/sglang/python/sglang/launch_server.py", line 24, in <module>\n    server_args = prepare_server_args(sys.argv[1:])\n  File "/sgl-workspace/sglang/python/sglang/srt/server_args.py", in __post_init__\n${type}: ${msg}\n`);
}

/** `--config file.yaml`: its options go first, so flags on the command line win */
async function withConfig(argv: string[]): Promise<string[]> {
  const i = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (i < 0) return argv;
  const path = argv[i].includes('=') ? argv[i].slice('--config='.length) : argv[i + 1];
  if (!path) return argv;
  const doc = parseYaml(await readFile(path, 'utf8')) as unknown;
  const fromFile: string[] = [];
  if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
      const flag = `--${k.replace(/_/g, '-')}`;
      if (v === true) fromFile.push(flag);
      else if (v === false || v === null) continue;
      else if (Array.isArray(v)) fromFile.push(flag, ...v.map(String));
      else fromFile.push(flag, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  }
  const rest = argv.filter((_, j) => j !== i && !(j === i + 1 && !argv[i].includes('=')));
  return [...fromFile, ...rest];
}

/** argparse's exits: --help prints usage and exits 0, a bad flag prints its message and exits 2 */
async function argparseOrExit(io: Io, parse: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown> | number> {
  try {
    return await parse();
  } catch (err) {
    if (err instanceof ArgparseHelp) {
      io.stdout.write(err.usage + '\n');
      return 0;
    }
    if (err instanceof ArgparseError) {
      io.stderr.write(err.message + '\n');
      return 2;
    }
    throw err;
  }
}

function waitForSignal(extra?: Promise<number>): Promise<number> {
  return new Promise((resolve) => {
    // an emulated server belongs to the process that made its sim cluster (extension host, CLI,
    // test): if that owner dies without cleaning up, the server exits too instead of leaking
    const owner = Number(process.env.MOEBENCH_SIM_OWNER_PID ?? '0');
    const watchdog = owner > 0 ? setInterval(() => {
      try {
        process.kill(owner, 0);
      } catch {
        done(0);
      }
    }, 1000) : undefined;
    watchdog?.unref();
    const done = (code: number): void => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      if (watchdog) clearInterval(watchdog);
      resolve(code);
    };
    const onSig = (): void => done(0);
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    void extra?.then(done);
  });
}

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function httpJson(host: string, port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Drop-in for `python3 -m sglang.launch_server`: SGLang's flags and errors, an emulated
 * engine behind the port. Multi-node instances coordinate over --dist-init-addr like
 * torch.distributed: rank 0 serves HTTP once every rank has joined; other ranks serve
 * /health, /ping and /metrics on their own port, as SGLang's non-zero ranks do.
 */
export async function launchServerCommand(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = await argparseOrExit(io, async () => parseArgs('sglang serve', SERVER_ARG_SPECS, await withConfig(argv), SERVER_USAGE).values);
  if (typeof values === 'number') return values;
  const simEnv = readSimNodeEnv(env);
  let shape: ServerShape;
  try {
    shape = shapeFromArgs(values);
    planMemory(shape);
  } catch (err) {
    if (err instanceof LaunchAssertionError || err instanceof NotEnoughMemoryError) {
      pythonTraceback(io, err);
      return 1;
    }
    throw err;
  }
  const host = bindAddress(shape.host, simEnv);
  const log = (line: string): void => {
    io.stderr.write(`[${new Date().toISOString().replace('T', ' ').slice(0, 19)}] ${line}\n`);
  };
  log(`server_args=ServerArgs(model_path='${shape.modelPath}', tp_size=${shape.tpSize}, dp_size=${shape.dpSize}, ep_size=${shape.epSize}, nnodes=${shape.nnodes}, node_rank=${shape.nodeRank}, disaggregation_mode='${shape.role === 'unified' ? 'null' : shape.role}', host='${shape.host}', port=${shape.port}) [moebench simulated engine]`);
  if (shape.nnodes > 1 && shape.nodeRank > 0) return runFollowerRank(shape, host, simEnv, log);

  let coordinator: Server | null = null;
  let server: Awaited<ReturnType<typeof startSimServer>> | null = null;
  if (shape.nnodes > 1) {
    if (!shape.distInitAddr) {
      pythonTraceback(io, new LaunchAssertionError('dist_init_addr is required when nnodes > 1'));
      return 1;
    }
    const joined = new Set<string>();
    let allJoined: () => void = () => undefined;
    const ready = new Promise<void>((r) => (allJoined = r));
    const dist = splitAddr(shape.distInitAddr);
    coordinator = createServer((req, res) => {
      const url = req.url ?? '';
      const m = /^\/moebench\/join\/(\d+)$/.exec(url);
      if (m) {
        joined.add(m[1]);
        if (joined.size >= shape.nnodes - 1) allJoined();
        res.writeHead(200).end();
        return;
      }
      if (url === '/moebench/load') {
        const st = server?.modelStats();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(st ?? { busyMs: 0, active: 0, kvUsedFraction: 0 }));
        return;
      }
      res.writeHead(404).end();
    });
    try {
      await listen(coordinator, bindAddress(dist.host, simEnv), dist.port);
    } catch (err) {
      log(`torch.distributed: cannot bind ${shape.distInitAddr}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    log(`Waiting for ${shape.nnodes - 1} other node(s) to join at ${shape.distInitAddr}`);
    await ready;
  }
  log('Load weight begin. (simulated)');
  await new Promise((r) => setTimeout(r, simEnv.startupMs));
  try {
    server = await startSimServer({
      host,
      port: shape.port,
      role: shape.role,
      shape,
      seed: simEnv.seed,
      zeroCost: simEnv.zeroCost,
      timeScale: simEnv.timeScale,
      faults: simEnv.faults,
      expertDumpDir: env.SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR,
      telemetry: simEnv.stateDir && simEnv.nodeName ? { stateDir: simEnv.stateDir, nodeName: simEnv.nodeName } : undefined,
      log,
    });
  } catch (err) {
    coordinator?.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      log(`ERROR: [Errno 98] error while attempting to bind on address ('${host}', ${shape.port}): address already in use`);
      return 1;
    }
    throw err;
  }
  const code = await waitForSignal(server.crashed.then(() => 1));
  await server.close();
  coordinator?.closeAllConnections();
  coordinator?.close();
  return code;
}

async function runFollowerRank(shape: ServerShape, host: string, simEnv: SimNodeEnv, log: (l: string) => void): Promise<number> {
  if (!shape.distInitAddr) {
    log('dist_init_addr is required when nnodes > 1');
    return 1;
  }
  const dist = splitAddr(shape.distInitAddr);
  const distHost = bindAddress(dist.host, simEnv);
  // keep trying to join, like torch.distributed's rendezvous
  for (;;) {
    try {
      const r = await httpJson(distHost, dist.port, `/moebench/join/${shape.nodeRank}`, 'POST');
      if (r.status === 200) break;
    } catch {
      // rank 0 not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  log(`node_rank ${shape.nodeRank} joined ${shape.distInitAddr}`);
  let probe: LoadProbe = { active: 0, busyMs: 0, zeroCost: simEnv.zeroCost, kvUsedFraction: 0 };
  const poll = setInterval(() => {
    httpJson(distHost, dist.port, '/moebench/load').then(
      (r) => {
        try {
          const j = JSON.parse(r.body) as { busyMs?: number; active?: number; kvUsedFraction?: number };
          probe = { active: j.active ?? 0, busyMs: j.busyMs ?? 0, zeroCost: simEnv.zeroCost, kvUsedFraction: j.kvUsedFraction ?? 0 };
        } catch {
          // keep the last sample
        }
      },
      () => undefined,
    );
  }, 250);
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/health' || path === '/health_generate' || path === '/ping') res.writeHead(200, { 'content-length': 0 }).end();
    else if (path === '/metrics' && shape.enableMetrics) res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end('# non-zero rank: no request metrics (moebench simulated)\n');
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  });
  await listen(server, host, shape.port);
  const telemetry = simEnv.stateDir && simEnv.nodeName ? new GpuTelemetry({ stateDir: simEnv.stateDir, nodeName: simEnv.nodeName }, { ...shape, port: shape.port }, planMemory(shape), () => probe) : null;
  telemetry?.start();
  const code = await waitForSignal();
  clearInterval(poll);
  await telemetry?.stop();
  server.closeAllConnections();
  server.close();
  return code;
}

/** Drop-in for `python3 -m sglang_router.launch_router`. */
export async function routerCommand(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = await argparseOrExit(io, async () => parseArgs('launch_router.py', ROUTER_ARG_SPECS, argv, ROUTER_USAGE).values);
  if (typeof values === 'number') return values;
  const simEnv = readSimNodeEnv(env);
  const log = (line: string): void => {
    io.stderr.write(`${new Date().toISOString()} INFO sglang_router: ${line}\n`);
  };
  const pd = values.pd_disaggregation === true;
  const prefillArgs = (values.prefill as string[][]) ?? [];
  const prefill = prefillArgs.map((p) => p[0]);
  const ports = prefillArgs.map((p) => (p[1] === undefined || p[1] === 'none' ? null : Number(p[1])));
  const decode = ((values.decode as string[][]) ?? []).map((d) => d[0]);
  const workers = (values.worker_urls as string[] | null) ?? [];
  if (pd && (prefill.length === 0 || decode.length === 0)) {
    io.stderr.write('Error: PD disaggregation mode requires at least one --prefill and one --decode worker\n');
    return 1;
  }
  if (!pd && workers.length === 0) {
    io.stderr.write('Error: at least one --worker-urls is required in regular mode\n');
    return 1;
  }
  // like the router, wait for every worker to become healthy before serving
  const all = pd ? [...prefill, ...decode] : workers;
  const timeoutMs = Number(values.worker_startup_timeout_secs ?? 1800) * 1000;
  const interval = Math.min(1000, Number(values.worker_startup_check_interval ?? 30) * 1000);
  const deadline = Date.now() + timeoutMs;
  for (const w of all) {
    const u = new URL(w);
    for (;;) {
      const ok = await httpJson(u.hostname, Number(u.port || 80), '/health').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        log(`Timeout ${timeoutMs / 1000}s waiting for worker ${w} to become healthy`);
        return 1;
      }
      log(`Waiting for worker ${w} to become healthy`);
      await new Promise((r) => setTimeout(r, interval));
    }
  }
  let router: SimServer;
  try {
    router = await startSimRouter({
      host: bindAddress(String(values.host ?? '0.0.0.0'), simEnv),
      port: Number(values.port ?? 30000),
      prefill,
      decode,
      prefillBootstrapPorts: ports,
      mode: pd ? 'pd' : 'round_robin',
      policy: simRouterPolicy(values.policy),
      workers,
      log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log(`failed to start: ${e.message}`);
    return 1;
  }
  log(`Router ready on ${router.url} (moebench simulated)`);
  const code = await waitForSignal();
  await router.close();
  return code;
}

/** the policies the emulated router models; the others fall back to round_robin (said in the log) */
function simRouterPolicy(v: unknown): 'round_robin' | 'cache_aware' | 'random' {
  return v === 'cache_aware' || v === 'random' ? v : 'round_robin';
}

import { EmulatedProfiler } from './profiler';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { SimServer, SimServerOptions } from './types';
import { defaultShape, type ServerShape } from './shape';
import { SglangMetrics } from './sglang-metrics';
import { metricLayoutForVersion } from '../telemetry/server/sglang-metric-sets';
import { FaultInjector } from './faults';
import { Rng } from './rng';
import { planMemory, type MemoryPlan } from './engine/memory';
import { MoeRouting, DEFAULT_ZIPF_EXPONENT } from './engine/moe';
import { ExpertRecorder } from './engine/expert-recorder';
import { Scheduler } from './engine/scheduler';
import { PacedEngine } from './engine/paced';
import { BootstrapRegistry } from './engine/bootstrap';
import { DEEPSEEK_V3 } from './engine/perf-model';
import { buildModelInfo, buildModelList, buildServerInfo, modelCard, SIM_SGLANG_VERSION } from './server-info';
import { delay, pathOf, queryParam, readJson, sendEmpty, sendJson, sendText, sendWireError } from './http-util';
import { WireError, methodNotAllowed, notFound, openaiErrorBody, validationError } from './wire/errors';
import { parseChat, parseCompletions, parseGenerate, type ParsedCall } from './wire/request';
import { serveCall, type CallEnv } from './wire/respond';
import { countPromptTokens } from './tokenizer';
import { GpuTelemetry } from './telemetry/gpu-state';

const FLUSH_TEXT = 'Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)\n';

/** the running emulator, with hooks tests and the CLI use */
export interface SimServerHandle extends SimServer {
  readonly shape: ServerShape;
  /** resolves when a fault crashed the server (connections reset, port closed) */
  readonly crashed: Promise<void>;
  /** forward passes run so far and the last pass's balancedness */
  modelStats(): { passes: number; balancedness: number; busyMs: number; active: number; kvUsedFraction: number };
}

/** Starts an SGLang-compatible emulated server (see README.md in this folder). */
export async function startSimServer(options: SimServerOptions = {}): Promise<SimServerHandle> {
  const seed = options.seed ?? 1;
  const role = options.role ?? options.shape?.role ?? 'unified';
  const shape = defaultShape({
    ...options.shape,
    role,
    modelPath: options.modelPath ?? options.shape?.modelPath,
    servedModelName: options.servedModelName ?? options.shape?.servedModelName ?? options.modelPath ?? options.shape?.modelPath,
    // the API's servers record by default; launch-server passes SGLang's null explicitly
    expertDistributionRecorderMode: options.shape?.expertDistributionRecorderMode === undefined ? 'stat' : options.shape.expertDistributionRecorderMode,
  });
  shape.host = options.host ?? '127.0.0.1';
  const zeroCost = options.zeroCost ?? false;
  const log = options.log ?? (() => undefined);
  const timeScale = options.timeScale ?? 1;
  const memory: MemoryPlan = planMemory(shape);
  const sglangVersion = options.sglangVersion ?? process.env.MOEBENCH_SIM_SGLANG_VERSION ?? SIM_SGLANG_VERSION;
  const metrics = shape.enableMetrics ? new SglangMetrics(shape, metricLayoutForVersion(sglangVersion)) : null;
  const faults = options.faults ? new FaultInjector(options.faults, seed) : null;
  const moe = new MoeRouting({
    layers: DEEPSEEK_V3.moeLayers,
    experts: DEEPSEEK_V3.routedExperts,
    topK: DEEPSEEK_V3.topK,
    epSize: shape.epSize,
    tpSize: shape.tpSize,
    redundantExperts: shape.epNumRedundantExperts,
    seed,
    zipfExponent: DEFAULT_ZIPF_EXPONENT,
  });
  await applyInitExpertLocation(moe, shape.initExpertLocation);
  const recorder = new ExpertRecorder(DEEPSEEK_V3.moeLayers, DEEPSEEK_V3.routedExperts, shape.expertDistributionRecorderBufferSize);
  if (shape.enableEplb) recorder.start();
  const registry = role === 'prefill' ? new BootstrapRegistry() : null;
  const paced = !zeroCost && options.pace ? new PacedEngine(options.pace) : null;
  const scheduler = zeroCost || paced ? null : new Scheduler({ shape, seed, timeScale, kvTokensPerRank: memory.kvTokensPerRank, metrics, recorder, moe, bootstrapRegistry: registry, log });
  const ridRng = new Rng(seed ^ 0x51d);
  const startedAtSec = Math.floor(Date.now() / 1000);
  let active = 0;
  let crashed = false;
  let resolveCrashed: () => void = () => undefined;
  const crashedPromise = new Promise<void>((r) => (resolveCrashed = r));
  const sockets = new Set<Socket>();
  const telemetry = options.telemetry ? new GpuTelemetry(options.telemetry, shape, memory, () => ({ active, busyMs: scheduler?.busyMs ?? 0, zeroCost, kvUsedFraction: kvFraction() })) : null;

  function kvFraction(): number {
    if (!scheduler) return 0;
    let used = 0;
    for (let i = 0; i < scheduler.rankCount(); i++) used += scheduler.kvUsed(i);
    return used / (memory.kvTokensPerRank * scheduler.rankCount());
  }

  const env: CallEnv = {
    seed,
    contextLength: shape.contextLength,
    cacheReport: shape.enableCacheReport,
    metrics,
    faults,
    engine: paced ?? scheduler,
    role,
    // flags SGLang reads in the tokenizer / OpenAI layer (server_args.py names)
    reasoning: typeof shape.serverArgs['reasoning_parser'] === 'string' && shape.serverArgs['reasoning_parser'] !== '',
    specDraftTokens: specDraftTokensOf(shape.serverArgs),
    timeStats: metrics && (paced ?? scheduler) ? metricLayoutForVersion(sglangVersion) : null,
    specTotals: { tokens: 0, passes: 0, correct: 0, proposed: 0 },
    activity: (d) => {
      active += d;
      if (d > 0) scheduler?.refreshGauges();
    },
  };

  const crash = (reason: string): void => {
    if (crashed) return;
    crashed = true;
    log(`[simulated fault] server crash: ${reason}`);
    server.close();
    for (const s of sockets) s.destroy();
    scheduler?.dispose();
    paced?.dispose();
    resolveCrashed();
  };

  const generation = async (req: IncomingMessage, res: ServerResponse, parse: (body: unknown, rid: () => string) => ParsedCall, openai: boolean): Promise<void> => {
    if (req.method !== 'POST' && req.method !== 'PUT') throw methodNotAllowed();
    if (openai) {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (ct !== 'application/json') throw validationError("[{'loc': ('header', 'content-type'), 'msg': \"Unsupported Media Type: Only 'application/json' is allowed\", 'type': 'value_error'}]");
    }
    const body = await readJson(req);
    const call = parse(body, () => ridRng.hex32());
    for (const r of call.requests) {
      if (r.promptTokens >= shape.contextLength) {
        const msg = `The input (${r.promptTokens} tokens) is longer than the model's context length (${shape.contextLength} tokens).`;
        throw openai ? new WireError(400, openaiErrorBody(msg, 'BadRequestError', 400)) : new WireError(400, { error: { message: msg } });
      }
    }
    if (faults?.countRequest()) {
      crash(`crash after ${faults.options.crashAfterRequests} requests`);
      return;
    }
    if (faults?.drawError()) {
      const status = faults.options.errorStatus ?? 500;
      sendJson(res, status, openaiErrorBody('Simulated fault: internal server error', 'InternalServerError', status));
      return;
    }
    if (role === 'prefill' && registry && zeroCost) for (const r of call.requests) if (r.bootstrap?.room != null) registry.publish(r.bootstrap.room, true);
    serveCall(req, res, call, env);
  };

  const profiler = new EmulatedProfiler(shape, () => ({ passes: scheduler?.passCount ?? 0, busyMs: scheduler?.busyMs ?? 0 }));
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void> | void> = {
    '/health': health,
    '/health_generate': health,
    '/ping': (_q, res) => sendEmpty(res, 200),
    '/server_info': serverInfo,
    '/get_server_info': serverInfo,
    '/model_info': (_q, res) => sendJson(res, 200, buildModelInfo(shape)),
    '/get_model_info': (_q, res) => sendJson(res, 200, buildModelInfo(shape)),
    '/v1/models': (_q, res) => sendJson(res, 200, buildModelList(shape, startedAtSec)),
    '/generate': (q, res) => generation(q, res, parseGenerate, false),
    '/v1/completions': (q, res) => generation(q, res, parseCompletions, true),
    '/v1/chat/completions': (q, res) => generation(q, res, parseChat, true),
    '/flush_cache': flushCache,
    '/metrics': (_q, res) => {
      if (!metrics) throw notFound();
      sendText(res, 200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
    },
    '/start_expert_distribution_record': (_q, res) => {
      requireRecorder();
      recorder.start();
      sendText(res, 200, 'Start recording the expert distribution.\n');
    },
    '/stop_expert_distribution_record': (_q, res) => {
      requireRecorder();
      recorder.stop();
      sendText(res, 200, 'Stop recording the expert distribution.\n');
    },
    '/dump_expert_distribution_record': async (_q, res) => {
      requireRecorder();
      const path = await recorder.dump(options.expertDumpDir ?? process.env.SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR ?? tmpdir(), moe.placementRows());
      log(`Write expert distribution to ${path}`);
      sendText(res, 200, 'Dump expert distribution record.\n');
    },
    '/slow_down': async (q, res) => {
      const body = await readJson(q);
      const t = body && typeof body === 'object' && 'forward_sleep_time' in body ? (body as { forward_sleep_time: unknown }).forward_sleep_time : null;
      if (t !== null && typeof t !== 'number') throw validationError('forward_sleep_time: Input should be a valid number');
      scheduler?.setForwardSleep(t);
      sendEmpty(res, 200);
    },
    '/get_load': (_q, res) => sendJson(res, 200, loads()),
    '/v1/loads': (_q, res) => sendJson(res, 200, loads()),
    '/start_profile': async (q, res) => {
      const body = await readJson(q);
      const dir = body && typeof body === 'object' && typeof (body as { output_dir?: unknown }).output_dir === 'string' ? (body as { output_dir: string }).output_dir : undefined;
      profiler.start(dir);
      sendText(res, 200, 'Start profiling.\n');
    },
    '/stop_profile': async (_q, res) => {
      if (!(await profiler.stop())) {
        sendText(res, 400, 'Profiling is not in progress. Call /start_profile first.\n');
        return;
      }
      sendText(res, 200, 'Stop profiling. This will take some time.\n');
    },
    '/abort_request': (_q, res) => sendEmpty(res, 200),
    '/v1/tokenize': tokenize,
    '/tokenize': tokenize,
  };

  function requireRecorder(): void {
    if (!shape.expertDistributionRecorderMode) {
      throw new WireError(500, { detail: 'Please set ServerArgs.expert_distribution_recorder_mode to use ExpertDistributionRecorder.' });
    }
  }

  async function health(_q: IncomingMessage, res: ServerResponse): Promise<void> {
    if (faults?.options.healthDelayMs) await delay(faults.options.healthDelayMs);
    if (faults?.options.healthFailing) return sendEmpty(res, 503);
    sendEmpty(res, 200);
  }

  function serverInfo(_q: IncomingMessage, res: ServerResponse): void {
    const ranks = [];
    const n = Math.max(1, shape.dpSize);
    for (let i = 0; i < n; i++) ranks.push({ lastGenThroughput: 0, load: scheduler ? scheduler.runningPerRank(i) : 0 });
    const spec = env.specTotals;
    sendJson(res, 200, buildServerInfo(shape, memory, ranks, { seed, zeroCost, version: sglangVersion, avgSpecAcceptLength: spec && spec.passes > 0 ? spec.tokens / spec.passes : undefined }));
  }

  function loads(): unknown[] {
    const n = Math.max(1, shape.dpSize);
    const out = [];
    for (let i = 0; i < n; i++) {
      const running = scheduler ? scheduler.runningPerRank(i) : 0;
      const used = scheduler ? scheduler.kvUsed(i) : 0;
      out.push({ dp_rank: i, num_reqs: running, num_waiting_reqs: 0, num_tokens: used, num_pending_tokens: 0, ts_tic: Date.now() / 1000 });
    }
    return out;
  }

  async function tokenize(q: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(q);
    const prompt = body && typeof body === 'object' ? (body as { prompt?: unknown }).prompt : undefined;
    if (typeof prompt !== 'string') throw validationError("Exactly one of 'prompt' or 'messages' must be provided.");
    const count = countPromptTokens(prompt);
    sendJson(res, 200, { tokens: Array.from({ length: count }, (_, i) => i + 1), count, max_model_len: shape.contextLength });
  }

  async function flushCache(q: IncomingMessage, res: ServerResponse): Promise<void> {
    const timeoutSec = Number(queryParam(q.url ?? '', 'timeout') ?? 0);
    const deadline = performance.now() + (Number.isFinite(timeoutSec) ? timeoutSec * 1000 : 0);
    const busy = (): boolean => (scheduler ? scheduler.activeRequests() > 0 : active > 0);
    while (busy() && performance.now() < deadline) await delay(50);
    if (busy()) return sendText(res, 400, FLUSH_TEXT);
    scheduler?.flushCache();
    // SGLang resets its accept-length counters with the cache (avg_spec_accept_length starts over)
    if (env.specTotals) Object.assign(env.specTotals, { tokens: 0, passes: 0, correct: 0, proposed: 0 });
    sendText(res, 200, FLUSH_TEXT);
  }

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000, noDelay: true }, (req, res) => {
    const path = pathOf(req.url ?? '/');
    if (shape.apiKey && !['/health', '/health_generate', '/metrics', '/ping'].includes(path)) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${shape.apiKey}`) {
        sendJson(res, 401, { error: 'Unauthorized' });
        return;
      }
    }
    let handler = routes[path];
    if (!handler && path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      handler = (_q, r) => (id === shape.servedModelName ? sendJson(r, 200, modelCard(shape, startedAtSec)) : sendJson(r, 404, openaiErrorBody(`The model '${id}' does not exist`, 'NotFoundError', 404)));
    }
    if (!handler) {
      sendWireError(res, notFound());
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (err instanceof WireError) sendWireError(res, err);
        else {
          log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
          if (!res.headersSent) sendJson(res, 500, openaiErrorBody(err instanceof Error ? err.message : String(err), 'InternalServerError', 500));
          else res.destroy();
        }
      });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: shape.host, port: options.port ?? 0, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  shape.port = port;
  if (registry) await registry.listen(shape.host, options.shape?.disaggregationBootstrapPort ?? 0);
  if (registry) shape.disaggregationBootstrapPort = registry.port;
  let crashTimer: NodeJS.Timeout | null = null;
  if (faults?.options.crashAtMs !== undefined) {
    crashTimer = setTimeout(() => crash(`crash at ${faults.options.crashAtMs} ms`), faults.options.crashAtMs);
    crashTimer.unref();
  }
  telemetry?.start();
  log(`The server is fired up and ready to roll! (simulated SGLang on http://${shape.host}:${port}, role ${role}${zeroCost ? ', zero-cost' : ''})`);

  let closed: Promise<void> | null = null;
  const url = `http://${shape.host.includes(':') ? `[${shape.host}]` : shape.host}:${port}`;
  return {
    url,
    port,
    host: shape.host,
    shape,
    crashed: crashedPromise,
    modelStats: () => ({ passes: scheduler?.passCount ?? 0, balancedness: scheduler?.lastBalancedness ?? 1, busyMs: scheduler?.busyMs ?? 0, active, kvUsedFraction: kvFraction() }),
    close: () => {
      if (closed) return closed;
      closed = (async () => {
        if (crashTimer) clearTimeout(crashTimer);
        scheduler?.dispose();
        paced?.dispose();
        await telemetry?.stop();
        await registry?.close();
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closed;
    },
  };
}

/** --init-expert-location: trivial, or a JSON file/inline JSON with physical_to_logical_map or logical_count */
async function applyInitExpertLocation(moe: MoeRouting, value: string): Promise<void> {
  if (!value || value === 'trivial') return;
  let text = value.trim();
  if (!text.startsWith('{')) text = await readFile(value, 'utf8');
  const data = JSON.parse(text) as { physical_to_logical_map?: number[][]; logical_count?: unknown };
  if (Array.isArray(data.physical_to_logical_map)) {
    moe.setPlacement(data.physical_to_logical_map);
    return;
  }
  const lc = data.logical_count;
  if (!Array.isArray(lc)) throw new Error('--init-expert-location must hold physical_to_logical_map or logical_count');
  const { layers, experts } = moe.config;
  const load = new Float64Array(layers * experts);
  // [passes][layers][experts] or [layers][experts]
  const passes = Array.isArray(lc[0]) && Array.isArray((lc[0] as unknown[])[0]) ? (lc as number[][][]) : [lc as number[][]];
  for (const p of passes) for (let l = 0; l < layers && l < p.length; l++) for (let e = 0; e < experts && e < p[l].length; e++) load[l * experts + e] += Number(p[l][e]) || 0;
  moe.rebalance(load);
}

/** speculative_num_draft_tokens when a speculative algorithm is set (4 when the flag is not given: the emulator's choice, SGLang derives its own) */
function specDraftTokensOf(args: Record<string, unknown>): number | undefined {
  const algo = args['speculative_algorithm'];
  if (typeof algo !== 'string' || algo === '' || algo.toLowerCase() === 'none') return undefined;
  const n = args['speculative_num_draft_tokens'];
  return typeof n === 'number' && n > 1 ? n : 4;
}

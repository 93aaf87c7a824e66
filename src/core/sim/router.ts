import { createServer, request, Agent, type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimRouterOptions, SimServer } from './types';
import { Rng } from './rng';
import { readBody, sendJson, sendText, sendEmpty } from './http-util';
import { SIM_HEADER } from './wire/respond';
import { routingText, WorkerSelector } from './router-policy';

const GENERATION_PATHS = new Set(['/generate', '/v1/completions', '/v1/chat/completions']);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  res: IncomingMessage;
}

function forward(url: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | string | null, signal: AbortSignal): Promise<Upstream> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !['host', 'content-length', 'connection', 'transfer-encoding'].includes(k)) h[k] = v;
    if (body !== null) h['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: u.hostname, port: u.port, method, path, headers: h, agent, signal }, (res) => resolve({ status: res.statusCode ?? 502, headers: res.headers, res }));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function getJson(url: string, path: string): Promise<unknown> {
  const up = await forward(url, 'GET', path, {}, null, AbortSignal.timeout(10_000));
  const chunks: Buffer[] = [];
  for await (const c of up.res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (up.status !== 200) throw new Error(`${url}${path}: HTTP ${up.status} ${text}`);
  return JSON.parse(text) as unknown;
}

function pipeBack(up: Upstream, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !['connection', 'transfer-encoding', 'keep-alive'].includes(k)) headers[k] = v;
  headers[SIM_HEADER] = 'true';
  res.writeHead(up.status, headers);
  up.res.pipe(res);
  up.res.on('error', () => res.destroy());
  up.res.on('aborted', () => res.destroy());
  up.res.on('close', () => {
    if (!up.res.complete) res.destroy();
  });
}

/**
 * Stand-in for sglang_router: PD mode (pick a prefill and a decode server per request, add
 * bootstrap_host/bootstrap_port/bootstrap_room, send to both, stream the decode answer back)
 * and plain round-robin over workers.
 */
export async function startSimRouter(options: SimRouterOptions): Promise<SimServer> {
  const mode = options.mode ?? (options.prefill.length > 0 ? 'pd' : 'round_robin');
  const workers = mode === 'round_robin' ? (options.workers ?? [...options.prefill, ...options.decode]) : [];
  if (mode === 'pd' && (options.prefill.length === 0 || options.decode.length === 0)) throw new Error('PD mode needs at least one prefill and one decode server');
  if (mode === 'round_robin' && workers.length === 0) throw new Error('round-robin mode needs at least one worker');
  const log = options.log ?? (() => undefined);
  const rng = new Rng(0x40a7e2);
  const bootstrapPorts: (number | null | undefined)[] = options.prefill.map((_, i) => options.prefillBootstrapPorts?.[i]);
  // regular mode picks a worker by policy (round_robin unless told; sglang_router defaults to cache_aware)
  const selector = new WorkerSelector(options.policy ?? 'round_robin', Math.max(1, workers.length), undefined, () => rng.next());
  let rrPrefill = 0;
  let rrDecode = 0;
  const sockets = new Set<Socket>();

  async function bootstrapPortOf(i: number): Promise<number | null> {
    const known = bootstrapPorts[i];
    if (known !== undefined) return known;
    try {
      const info = (await getJson(options.prefill[i], '/server_info')) as { disaggregation_bootstrap_port?: unknown };
      const p = typeof info.disaggregation_bootstrap_port === 'number' ? info.disaggregation_bootstrap_port : null;
      bootstrapPorts[i] = p;
      return p;
    } catch {
      return null;
    }
  }

  async function handleGeneration(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    if (mode === 'round_robin') {
      let text = '';
      if (selector.needsText) {
        try {
          text = routingText(JSON.parse(raw) as unknown);
        } catch {
          // the worker answers the bad body with its own error
        }
      }
      const wi = selector.select(text);
      const target = workers[wi];
      selector.loads[wi]++;
      let released = false;
      const release = (): void => {
        if (!released) selector.loads[wi]--;
        released = true;
      };
      res.on('close', release);
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      pipeBack(await forward(target, req.method ?? 'POST', req.url ?? path, req.headers, raw, ac.signal), res);
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      sendJson(res, 400, { error: 'Invalid JSON body' });
      return;
    }
    const pi = rrPrefill++ % options.prefill.length;
    const prefillUrl = options.prefill[pi];
    const decodeUrl = options.decode[rrDecode++ % options.decode.length];
    const room = Math.floor(rng.next() * 2 ** 53);
    const withBootstrap = { ...body, bootstrap_host: new URL(prefillUrl).hostname, bootstrap_port: await bootstrapPortOf(pi), bootstrap_room: room };
    const text = JSON.stringify(withBootstrap);
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const prefillDone = forward(prefillUrl, 'POST', req.url ?? path, req.headers, text, ac.signal).then(
      async (up) => {
        for await (const chunk of up.res) void chunk;
        return up.status;
      },
      (err: unknown) => {
        log(`prefill ${prefillUrl} failed: ${err instanceof Error ? err.message : String(err)}`);
        return 502;
      },
    );
    try {
      const up = await forward(decodeUrl, 'POST', req.url ?? path, req.headers, text, ac.signal);
      pipeBack(up, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 502, { error: `decode server ${decodeUrl} unreachable: ${err instanceof Error ? err.message : String(err)}` });
    }
    void prefillDone;
  }

  async function perRole(path: string): Promise<unknown> {
    if (mode === 'round_robin') return getJson(workers[0], path);
    const [prefill, decode] = await Promise.all([Promise.all(options.prefill.map((u) => getJson(u, path))), Promise.all(options.decode.map((u) => getJson(u, path)))]);
    return { prefill, decode };
  }

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, noDelay: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const run = async (): Promise<void> => {
      if (GENERATION_PATHS.has(path)) return handleGeneration(req, res, path);
      switch (path) {
        case '/health':
        case '/liveness':
          return sendEmpty(res, 200);
        case '/readiness':
        case '/health_generate': {
          const targets = mode === 'pd' ? [...options.prefill, ...options.decode] : workers;
          const oks = await Promise.all(targets.map((u) => forward(u, 'GET', '/health', {}, null, AbortSignal.timeout(5000)).then((r) => (r.res.resume(), r.status === 200), () => false)));
          return oks.every(Boolean) ? sendEmpty(res, 200) : sendJson(res, 503, { status: 'not ready' });
        }
        case '/get_server_info':
        case '/server_info':
          return sendJson(res, 200, await perRole('/server_info'));
        case '/get_model_info':
        case '/model_info':
          return sendJson(res, 200, await getJson(mode === 'pd' ? options.decode[0] : workers[0], '/model_info'));
        case '/v1/models':
          return sendJson(res, 200, await getJson(mode === 'pd' ? options.decode[0] : workers[0], '/v1/models'));
        case '/workers':
          return sendJson(res, 200, { workers: (mode === 'pd' ? [...options.prefill.map((url) => ({ url, worker_type: 'prefill' })), ...options.decode.map((url) => ({ url, worker_type: 'decode' }))] : workers.map((url) => ({ url, worker_type: 'regular' }))), simulated: true });
        case '/flush_cache': {
          const targets = mode === 'pd' ? [...options.prefill, ...options.decode] : workers;
          const statuses = await Promise.all(targets.map((u) => forward(u, 'POST', '/flush_cache', {}, '', AbortSignal.timeout(70_000)).then((r) => (r.res.resume(), r.status), () => 502)));
          return statuses.every((s) => s === 200) ? sendText(res, 200, 'Cache flushed successfully\n') : sendText(res, 400, 'Cache flush failed on some workers\n');
        }
        default:
          return sendJson(res, 404, { error: `no route for ${path}` });
      }
    };
    run().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 502, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0, backlog: 4096 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log(`simulated sglang_router (${mode === 'pd' ? 'pd' : selector.policy}) on http://${host}:${port}`);
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    host,
    close: () => {
      closed ??= new Promise<void>((r) => {
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        server.close(() => r());
      });
      return closed;
    },
  };
}

import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Disposable } from '../util/disposable';
import { UnsafeInputError } from '../util/errors';
import { ResponseAccumulator, type StreamResult } from './accumulator';
import { requestBody, type PayloadOptions } from './payloads';
import { SseLineSplitter } from './sse';
import { API_PATHS, type ApiKind, type DatasetRow } from '../metrics/record';

export interface StreamClientOptions {
  /** e.g. http://127.0.0.1:30000 (a path prefix is kept) */
  baseUrl: string;
  api: ApiKind;
  /** sockets kept in the pool; size it to the concurrency so no request waits inside the agent */
  maxSockets?: number;
  headers?: Record<string, string>;
  payload: PayloadOptions;
  /**
   * Diagnostics only (scripts/bench-loadgen.ts): called once per request; the returned function
   * sees every SSE line with its arrival time. Not for metrics.
   */
  observeLines?: () => (line: string, atMs: number) => void;
  /**
   * A request whose connection carries no byte for this long fails as stalled (default 10 min:
   * far beyond any real time to first token under queueing, short of a run hanging forever).
   */
  idleTimeoutMs?: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

/**
 * Streaming client for SGLang /generate and the OpenAI routes over one keep-alive pool: a socket
 * is reused by the next request instead of opening a connection per request (SGLang's client
 * opens a session per request; at thousands of req/s that costs ports and handshakes).
 * Never rejects: every outcome, including cancellation, is a StreamResult with what arrived.
 */
export class StreamClient implements Disposable {
  readonly api: ApiKind;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly url: URL;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  /** cancel hooks of the requests in flight (abortAll), O(1) to add and remove */
  private readonly live = new Set<() => void>();

  constructor(private readonly options: StreamClientOptions) {
    this.api = options.api;
    this.url = parseBaseUrl(options.baseUrl);
    checkHeaders(options.headers ?? {});
    this.transport = this.url.protocol === 'https:' ? https : http;
    const AgentCtor = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new AgentCtor({ keepAlive: true, maxSockets: options.maxSockets ?? Infinity, maxFreeSockets: options.maxSockets ?? 1024, scheduling: 'lifo' });
    this.path = this.url.pathname.replace(/\/+$/, '') + API_PATHS[options.api];
    this.headers = { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers };
  }

  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<StreamResult> {
    const body = Buffer.from(JSON.stringify(requestBody(this.api, row, maxTokens, this.options.payload)));
    return this.attempt(body, signal, true);
  }

  private attempt(body: Buffer, signal: AbortSignal | undefined, mayRetry: boolean): Promise<StreamResult> {
    return new Promise<StreamResult>((resolve) => {
      if (signal?.aborted) {
        resolve(new ResponseAccumulator(this.api, performance.now()).result(false, { error: 'cancelled' }));
        return;
      }
      let settled = false;
      let gotResponse = false;
      const acc = new ResponseAccumulator(this.api, performance.now());
      const done = (r: StreamResult | Promise<StreamResult>): void => {
        if (settled) return;
        settled = true;
        this.live.delete(onAbort);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = (): void => {
        req.destroy();
        done(acc.result(false, { error: 'cancelled' }));
      };
      this.live.add(onAbort);
      const idleMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
      // a server or router that hangs must end the request with a reason, not hang the run
      const stalled = (): void => {
        req.destroy();
        done(acc.result(false, { error: `stalled: no data from the server for ${Math.round(idleMs / 1000)} s` }));
      };
      const req = this.transport.request({
        agent: this.agent,
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port,
        path: this.path,
        method: 'POST',
        headers: { ...this.headers, 'content-length': String(body.length) },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(idleMs, stalled);
      req.on('socket', (socket) => socket.setNoDelay(true));
      req.on('response', (res) => {
        gotResponse = true;
        acc.headersMs = performance.now() - acc.startAt;
        const status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        if (status !== 200) {
          let errBody = '';
          res.on('data', (s: string) => {
            if (errBody.length < 2000) errBody += s;
          });
          res.on('end', () => done(acc.result(false, { httpStatus: status, error: `HTTP ${status} ${res.statusMessage ?? ''}: ${errBody.slice(0, 500)}`.trim() })));
          res.on('error', (err) => done(acc.result(false, { httpStatus: status, error: err.message })));
          return;
        }
        const observe = this.options.observeLines?.();
        const splitter = new SseLineSplitter({
          onRange: observe
            ? (text, a, b, at, read) => {
                observe(text.slice(a, b), at);
                acc.range(text, a, b, at, read);
              }
            : (text, a, b, at, read) => acc.range(text, a, b, at, read),
        });
        res.on('data', (s: string) => splitter.push(s, performance.now()));
        res.on('end', () => {
          splitter.end(performance.now());
          done(acc.result(true, { httpStatus: status }));
        });
        res.on('error', (err) => done(acc.result(false, { httpStatus: status, error: `stream broken: ${err.message}` })));
        res.on('close', () => {
          if (!res.complete) done(acc.result(false, { httpStatus: status, error: 'stream closed before it ended' }));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        // a keep-alive socket the server closed just as we reused it: Node's documented retry case
        if (mayRetry && !gotResponse && req.reusedSocket && err.code === 'ECONNRESET') {
          signal?.removeEventListener('abort', onAbort);
          this.live.delete(onAbort);
          settled = true;
          resolve(this.attempt(body, signal, false));
          return;
        }
        done(acc.result(false, { error: `${err.code ?? 'error'}: ${err.message}` }));
      });
      req.end(body);
    });
  }

  /** cancel every request in flight; each resolves with what it received */
  abortAll(): void {
    for (const cancel of [...this.live]) cancel();
  }

  dispose(): void {
    this.agent.destroy();
  }
}

export function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsafeInputError(`Not a valid URL: ${JSON.stringify(text)}`, { field: 'target' }, 'Write it like http://127.0.0.1:30000.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeInputError(`Only http:// and https:// targets can be benchmarked, not ${url.protocol}`, { field: 'target' }, 'Write it like http://127.0.0.1:30000.');
  }
  return url;
}

/** Node would throw on every request (and a CR/LF would split it); refuse once, naming the header. */
export function checkHeaders(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch (err) {
      throw new UnsafeInputError(`Request header ${JSON.stringify(name)} cannot be sent: ${(err as Error).message}`, { field: `headers.${name}` }, 'Header names are letters, digits and !#$%&\'*+-.^_`|~; values cannot contain line breaks or NUL.');
    }
  }
}

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Disposable } from '../util/disposable';
import { ResponseAccumulator, type StreamResult } from './accumulator';
import { checkHeaders, DEFAULT_IDLE_TIMEOUT_MS, parseBaseUrl, StreamClient, type StreamClientOptions } from './http-client';
import { requestBody } from './payloads';
import type { RequestSender } from './runner';
import { SseByteSplitter } from './sse';
import { API_PATHS, type ApiKind, type DatasetRow } from '../metrics/record';

/**
 * The load generator's HTTP/1.1 client for http:// targets: keep-alive sockets, one write per
 * request, and the response read straight off the socket — status line, headers, chunked or
 * length-delimited body — into the SSE splitter. Node's http client puts every body read through
 * an IncomingMessage stream (events, nextTicks, a second decoder); on a token stream that
 * machinery, not the parsing, was most of the client's CPU (scripts/bench-loadgen.ts measures
 * both clients and a raw-socket reader in one run). https:// targets keep node:https.
 *
 * Bytes are stamped once per socket read, before any parsing, as in StreamClient. Never rejects:
 * every outcome is a StreamResult with what arrived.
 */
export class RawStreamClient implements RequestSender, Disposable {
  readonly api: ApiKind;
  private readonly host: string;
  private readonly port: number;
  private readonly head: string;
  private readonly free: net.Socket[] = [];
  private readonly live = new Set<Exchange>();
  private disposed = false;
  readonly idleMs: number;

  constructor(readonly options: StreamClientOptions) {
    this.api = options.api;
    const url = parseBaseUrl(options.baseUrl);
    if (url.protocol !== 'http:') throw new Error('RawStreamClient speaks plain http only');
    checkHeaders(options.headers ?? {});
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
    const path = url.pathname.replace(/\/+$/, '') + API_PATHS[options.api] + url.search;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers };
    let head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'host' && k.toLowerCase() !== 'content-length') head += `${k}: ${v}\r\n`;
    this.head = head + 'Content-Length: ';
    this.idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<StreamResult> {
    const body = JSON.stringify(requestBody(this.api, row, maxTokens, this.options.payload));
    // header values go out as latin1, as node:http sends them (checkHeaders admits only chars < 256);
    // the body is UTF-8
    const bytes = Buffer.concat([Buffer.from(`${this.head}${Buffer.byteLength(body)}\r\n\r\n`, 'latin1'), Buffer.from(body, 'utf8')]);
    return new Promise<StreamResult>((resolve) => new Exchange(this, bytes, resolve, signal).begin(true));
  }

  abortAll(): void {
    for (const x of [...this.live]) x.cancel();
  }

  /**
   * Opens up to `n` keep-alive connections before the measured run, `wave` at a time, so the
   * first requests do not each pay a TCP handshake in their TTFT — nor a SYN dropped by a full
   * accept backlog (511 by default) and resent a second later, which is what a thousand
   * simultaneous connects get. A steady client holds its connections; the run measures that.
   */
  async preconnect(n: number, wave = 64): Promise<void> {
    let opened = 0;
    while (opened < n && !this.disposed) {
      const batch = Math.min(wave, n - opened);
      await Promise.all(
        Array.from({ length: batch }, () => {
          // always a new connection (acquire would hand back the ones this loop just opened)
          const socket = this.connect();
          return new Promise<void>((resolve) => {
            const done = (): void => {
              socket.off('connect', ok);
              socket.off('error', done);
              resolve();
            };
            const ok = (): void => {
              done();
              this.release(socket);
            };
            socket.once('connect', ok);
            socket.once('error', done);
          });
        }),
      );
      opened += batch;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.abortAll();
    for (const s of this.free) s.destroy();
    this.free.length = 0;
  }

  /** @internal a kept-alive socket, or a new connection (reused = false) */
  acquire(): { socket: net.Socket; reused: boolean } {
    while (this.free.length) {
      const s = this.free.pop() as net.Socket;
      if (!s.destroyed && s.readyState === 'open') return { socket: s, reused: true };
    }
    return { socket: this.connect(), reused: false };
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (buf: Buffer) => owner(socket)?.onData(buf, performance.now()));
    socket.on('error', (err: NodeJS.ErrnoException) => owner(socket)?.onError(err));
    socket.on('close', () => {
      owner(socket)?.onClose();
      const i = this.free.indexOf(socket);
      if (i >= 0) this.free.splice(i, 1);
    });
    socket.on('timeout', () => owner(socket)?.onIdle());
    return socket;
  }

  /** @internal back to the pool after a complete response */
  release(socket: net.Socket): void {
    setOwner(socket, undefined);
    socket.setTimeout(0);
    if (this.disposed || socket.destroyed) socket.destroy();
    else this.free.push(socket);
  }

  /** @internal */
  track(x: Exchange, on: boolean): void {
    if (on) this.live.add(x);
    else this.live.delete(x);
  }
}

const OWNER = Symbol('moebench.exchange');
type Owned = net.Socket & { [OWNER]?: Exchange };
const owner = (s: net.Socket): Exchange | undefined => (s as Owned)[OWNER];
const setOwner = (s: net.Socket, x: Exchange | undefined): void => {
  (s as Owned)[OWNER] = x;
};

const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

/** One request/response on one socket. */
class Exchange {
  private socket: net.Socket | undefined;
  private reused = false;
  private acc: ResponseAccumulator;
  private settled = false;
  private gotBytes = false;
  // response state
  private headBuf: Buffer | undefined;
  private status = 0;
  private statusText = '';
  private mode: 'head' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'length' | 'close' = 'head';
  private remaining = 0;
  private lineBuf = '';
  private keepAlive = true;
  private splitter: SseByteSplitter | undefined;
  private errBody = '';
  private readonly onAbort = (): void => this.cancel();

  constructor(
    private readonly client: RawStreamClient,
    private readonly bytes: Buffer,
    private readonly resolve: (r: StreamResult) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.acc = new ResponseAccumulator(client.api, performance.now());
  }

  begin(mayRetry: boolean): void {
    if (this.signal?.aborted) return this.done(this.acc.result(false, { error: 'cancelled' }));
    const { socket, reused } = this.client.acquire();
    this.socket = socket;
    this.reused = reused && mayRetry;
    setOwner(socket, this);
    if (!this.settled && mayRetry) {
      this.client.track(this, true);
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
    }
    socket.setTimeout(this.client.idleMs);
    // bench_serving's `st`: just before the request is written
    this.acc = new ResponseAccumulator(this.client.api, performance.now());
    socket.write(this.bytes);
  }

  cancel(): void {
    if (this.settled) return;
    this.socket?.destroy();
    this.done(this.acc.result(false, { error: 'cancelled' }));
  }

  onIdle(): void {
    this.socket?.destroy();
    this.done(this.acc.result(false, { error: `stalled: no data from the server for ${Math.round(this.client.idleMs / 1000)} s` }));
  }

  onError(err: NodeJS.ErrnoException): void {
    if (this.settled) return;
    if (this.retryable()) return;
    const error = this.status ? `stream broken: ${err.message}` : `${err.code ?? 'error'}: ${err.message}`;
    this.done(this.acc.result(false, { error, httpStatus: this.status || undefined }));
  }

  onClose(): void {
    if (this.settled) return;
    if (this.retryable()) return;
    if (this.mode === 'close') return this.complete();
    const error = this.status ? 'stream closed before it ended' : 'ECONNRESET: socket hang up';
    this.done(this.acc.result(false, { error, httpStatus: this.status || undefined }));
  }

  /** a kept-alive socket the server closed just as we reused it: send once more on a new one */
  private retryable(): boolean {
    if (!this.reused || this.gotBytes) return false;
    this.reused = false;
    const s = this.socket;
    if (s) setOwner(s, undefined);
    s?.destroy();
    this.begin(false);
    return true;
  }

  onData(buf: Buffer, at: number): void {
    if (this.settled) return;
    this.gotBytes = true;
    let pos = 0;
    if (this.mode === 'head') {
      const data = this.headBuf ? Buffer.concat([this.headBuf, buf]) : buf;
      const end = data.indexOf(CRLF2);
      if (end < 0) {
        if (data.length > MAX_HEAD_BYTES) return this.protocolError('response headers too large');
        this.headBuf = data;
        return;
      }
      this.headBuf = undefined;
      if (!this.parseHead(data.toString('latin1', 0, end), at)) return;
      buf = data;
      pos = end + 4;
    }
    while (pos < buf.length && !this.settled) {
      switch (this.mode) {
        case 'chunk-size': {
          const line = this.framingLine(buf, pos);
          pos = this.framingEnd;
          if (line === undefined) break;
          const size = parseInt(line.split(';', 1)[0], 16);
          if (!Number.isFinite(size) || size < 0) return this.protocolError(`bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
          if (size === 0) this.mode = 'trailer';
          else {
            this.remaining = size;
            this.mode = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, buf.length - pos);
          this.body(buf, pos, pos + n, at);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.mode = 'chunk-crlf';
            this.remaining = 2;
          }
          break;
        }
        case 'chunk-crlf': {
          const n = Math.min(this.remaining, buf.length - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.mode = 'chunk-size';
          break;
        }
        case 'trailer': {
          // trailer fields, then an empty line ends the message
          const line = this.framingLine(buf, pos);
          pos = this.framingEnd;
          if (line === undefined) break;
          if (line === '') return this.complete(pos < buf.length);
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, buf.length - pos);
          this.body(buf, pos, pos + n, at);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) return this.complete(pos < buf.length);
          break;
        }
        case 'close':
          this.body(buf, pos, buf.length, at);
          pos = buf.length;
          break;
        default:
          return;
      }
    }
  }

  /** where framingLine stopped reading */
  private framingEnd = 0;

  /** a chunk-size or trailer line from `pos` (carried over across reads), or undefined if it is not complete yet */
  private framingLine(buf: Buffer, pos: number): string | undefined {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) {
      this.lineBuf += buf.toString('latin1', pos, buf.length);
      this.framingEnd = buf.length;
      return undefined;
    }
    const line = (this.lineBuf + buf.toString('latin1', pos, nl)).trim();
    this.lineBuf = '';
    this.framingEnd = nl + 1;
    return line;
  }

  private parseHead(head: string, at: number): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) {
      this.protocolError(`not an HTTP/1.x response: ${JSON.stringify(lines[0].slice(0, 60))}`);
      return false;
    }
    this.status = Number(m[2]);
    this.statusText = m[3] ?? '';
    this.keepAlive = m[1] === '1';
    let chunked = false;
    let length = -1;
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(':');
      if (c <= 0) continue;
      const name = lines[i].slice(0, c).trim().toLowerCase();
      const value = lines[i].slice(c + 1).trim().toLowerCase();
      if (name === 'transfer-encoding') chunked = value.split(',').map((s) => s.trim()).includes('chunked');
      else if (name === 'content-length') length = Number(value);
      else if (name === 'connection') this.keepAlive = value.includes('keep-alive') || (this.keepAlive && !value.includes('close'));
    }
    this.acc.headersMs = at - this.acc.startAt;
    if (this.status === 200) {
      const observe = this.client.options.observeLines?.();
      const acc = this.acc;
      this.splitter = new SseByteSplitter(
        observe
          ? (buf, a, b, t) => {
              observe(buf.toString('utf8', a, b), t);
              acc.bytes(buf, a, b, t);
            }
          : (buf, a, b, t) => acc.bytes(buf, a, b, t),
      );
    }
    if (chunked) this.mode = 'chunk-size';
    else if (length >= 0) {
      this.mode = 'length';
      this.remaining = length;
      if (length === 0) {
        this.complete(false);
        return false;
      }
    } else {
      this.mode = 'close';
      this.keepAlive = false;
    }
    return true;
  }

  private body(buf: Buffer, from: number, to: number, at: number): void {
    if (from >= to) return;
    if (this.splitter) {
      this.splitter.push(buf, from, to, at);
      return;
    }
    if (this.errBody.length < 2000) this.errBody += buf.toString('utf8', from, Math.min(to, from + 2000));
  }

  private complete(extraBytes = false): void {
    if (this.settled) return;
    const socket = this.socket;
    const now = performance.now();
    let result: StreamResult;
    if (this.status === 200) {
      this.splitter?.end(now);
      result = this.acc.result(true, { httpStatus: 200 });
    } else {
      result = this.acc.result(false, { httpStatus: this.status, error: `HTTP ${this.status} ${this.statusText}: ${this.errBody.slice(0, 500)}`.trim() });
    }
    if (socket) {
      if (this.keepAlive && !extraBytes && this.mode !== 'close') this.client.release(socket);
      else {
        setOwner(socket, undefined);
        socket.destroy();
      }
    }
    this.done(result);
  }

  private protocolError(message: string): void {
    this.socket?.destroy();
    this.done(this.acc.result(false, { httpStatus: this.status || undefined, error: `bad response: ${message}` }));
  }

  private done(r: StreamResult): void {
    if (this.settled) return;
    this.settled = true;
    this.client.track(this, false);
    this.signal?.removeEventListener('abort', this.onAbort);
    const s = this.socket;
    if (s && owner(s) === this) setOwner(s, undefined);
    this.resolve(r);
  }
}

/** The client for a target: the raw HTTP/1.1 reader for http://, node:https for https://. */
export function createStreamClient(options: StreamClientOptions): RequestSender & Disposable & { api: ApiKind } {
  return parseBaseUrl(options.baseUrl).protocol === 'http:' ? new RawStreamClient(options) : new StreamClient(options);
}

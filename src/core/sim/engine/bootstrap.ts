import { createServer, get, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bootstrap } from '../wire/request';

/**
 * PD KV hand-off between emulated servers. A prefill server runs a bootstrap listener on its
 * --disaggregation-bootstrap-port (as SGLang's prefill does); a decode server holding a request
 * with bootstrap_host/port/room long-polls `GET /moebench/kv/<room>` there until the prefill
 * of that room has finished and its KV "arrived". So a PD pair plus router behaves as one service.
 */

type RoomState = { kind: 'ready'; at: number } | { kind: 'failed'; reason: string; at: number } | { kind: 'waiting'; waiters: ((s: RoomState) => void)[] };

const KEEP_MS = 120_000;

export class BootstrapRegistry {
  private readonly rooms = new Map<number, RoomState>();
  private server: Server | null = null;
  port = 0;

  publish(room: number, ok: boolean, reason = ''): void {
    const prev = this.rooms.get(room);
    const state: RoomState = ok ? { kind: 'ready', at: Date.now() } : { kind: 'failed', reason, at: Date.now() };
    this.rooms.set(room, state);
    if (prev?.kind === 'waiting') for (const w of prev.waiters) w(state);
    this.expire();
  }

  private expire(): void {
    if (this.rooms.size < 4096) return;
    const cutoff = Date.now() - KEEP_MS;
    for (const [room, s] of this.rooms) if (s.kind !== 'waiting' && s.at < cutoff) this.rooms.delete(room);
  }

  private wait(room: number, timeoutMs: number): Promise<RoomState | null> {
    const s = this.rooms.get(room);
    if (s && s.kind !== 'waiting') return Promise.resolve(s);
    return new Promise((resolve) => {
      let st = this.rooms.get(room);
      if (!st || st.kind !== 'waiting') {
        st = { kind: 'waiting', waiters: [] };
        this.rooms.set(room, st);
      }
      const waiting = st;
      const timer = setTimeout(() => {
        const i = waiting.waiters.indexOf(done);
        if (i >= 0) waiting.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      const done = (x: RoomState): void => {
        clearTimeout(timer);
        resolve(x);
      };
      waiting.waiters.push(done);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const m = /^\/moebench\/kv\/(-?\d+)(?:\?timeout_ms=(\d+))?$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      void this.wait(Number(m[1]), Number(m[2] ?? 300_000)).then((s) => {
        if (!s) res.writeHead(504, { 'content-type': 'application/json' }).end('{"error":"bootstrap timeout"}');
        else if (s.kind === 'ready') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        else res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: s.kind === 'failed' ? s.reason : 'failed' }));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const st of this.rooms.values()) if (st.kind === 'waiting') for (const w of st.waiters) w({ kind: 'failed', reason: 'prefill server shut down', at: Date.now() });
    this.rooms.clear();
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** SGLang's bench --fake-prefill host: decode-only benchmarking, KV appears at once */
export const FAKE_BOOTSTRAP_HOST = '2.2.2.2';

/**
 * Decode side: resolves when the prefill of `bootstrap.room` is done. Requests without
 * bootstrap fields, the fake host, or a fake transfer backend resolve at once.
 */
export function awaitKv(bootstrap: Bootstrap | null, ownBootstrapPort: number, fakeTransfer: boolean, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (!bootstrap || fakeTransfer || bootstrap.host === null || bootstrap.host === FAKE_BOOTSTRAP_HOST || bootstrap.host === 'FAKE_BOOTSTRAP_HOST' || bootstrap.room === null) return Promise.resolve();
  const port = bootstrap.port ?? ownBootstrapPort;
  const host = bootstrap.host;
  const room = bootstrap.room;
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: `/moebench/kv/${room}?timeout_ms=${timeoutMs}`, agent, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`KV transfer failed for bootstrap_room ${room}: ${res.statusCode} ${body}`));
      });
    });
    req.on('error', (e) => reject(new Error(`Failed to connect to the bootstrap server ${host}:${port}: ${e.message}`)));
  });
}

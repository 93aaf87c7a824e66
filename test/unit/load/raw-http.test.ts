import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { RawStreamClient } from '../../../src/core/load/raw-http';
import type { DatasetRow } from '../../../src/core/metrics/record';

const row: DatasetRow = { prompt: 'hi', promptLen: 1, outputLen: 3 };
const ev = (text: string, i: number): string => `data: {"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"${text}","logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
const sse = ['Hel', 'lo ', 'wörld ✓'].map(ev).join('') + 'data: {"id":"x","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}\n\ndata: [DONE]\n\n';

/** a server that answers every request with `respond(socket, n)`; counts connections and requests */
async function server(respond: (s: net.Socket, n: number) => void): Promise<{ url: string; conns: () => number; close: () => Promise<void> }> {
  let conns = 0;
  let reqs = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns++;
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const h = buf.indexOf('\r\n\r\n');
        if (h < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, h))?.[1] ?? 0);
        if (buf.length < h + 4 + len) return;
        buf = buf.slice(h + 4 + len);
        respond(s, reqs++);
      }
    });
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    conns: () => conns,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

/** writes `text` as a chunked body, cut into pieces of `piece` bytes across separate writes */
function chunked(s: net.Socket, text: string, piece: number): void {
  const body = Buffer.from(text);
  let wire = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let i = 0; i < body.length; i += 37) {
    const part = body.subarray(i, i + 37);
    wire = Buffer.concat([wire, Buffer.from(part.length.toString(16) + '\r\n'), part, Buffer.from('\r\n')]);
  }
  wire = Buffer.concat([wire, Buffer.from('0\r\n\r\n')]);
  let at = 0;
  const next = (): void => {
    if (at >= wire.length) return;
    s.write(wire.subarray(at, at + piece));
    at += piece;
    setImmediate(next);
  };
  next();
}

for (const piece of [1, 3, 7, 64, 100000]) {
  test(`chunked SSE cut every ${piece} byte(s): text (UTF-8 across cuts), chunks and usage come through`, async () => {
    const srv = await server((s) => chunked(s, sse, piece));
    const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
    const r = await c.send(row, 3);
    c.dispose();
    await srv.close();
    assert.equal(r.ok, true, r.error);
    assert.equal(r.text, 'Hello wörld ✓');
    assert.equal(r.chunkMs.length, 3);
    assert.equal(r.outputTokens, 3);
    assert.equal(r.httpStatus, 200);
  });
}

test('keep-alive: sequential requests reuse one connection; a length-delimited body works too', async () => {
  const srv = await server((s, n) => {
    if (n % 2 === 0) chunked(s, sse, 100000);
    else {
      const b = Buffer.from(sse);
      s.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\n\r\n`), b]));
    }
  });
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  for (let i = 0; i < 4; i++) assert.equal((await c.send(row, 3)).text, 'Hello wörld ✓');
  c.dispose();
  await srv.close();
  assert.equal(srv.conns(), 1);
});

test('a non-200 answer fails the request with its status and body', async () => {
  const srv = await server((s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\n\r\noverloaded!'));
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  const r = await c.send(row, 3);
  c.dispose();
  await srv.close();
  assert.equal(r.ok, false);
  assert.equal(r.httpStatus, 503);
  assert.equal(r.error, 'HTTP 503 Service Unavailable: overloaded!');
});

test('a kept-alive socket the server closed is retried once on a new connection', async () => {
  const srv = await server((s, n) => {
    chunked(s, sse, 100000);
    // after the first answer the server drops the idle connection
    if (n === 0) setTimeout(() => s.destroy(), 20);
  });
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  assert.equal((await c.send(row, 3)).ok, true);
  await new Promise((r) => setTimeout(r, 60));
  const r = await c.send(row, 3);
  c.dispose();
  await srv.close();
  assert.equal(r.ok, true, r.error);
  assert.equal(srv.conns(), 2);
});

test('a stream cut mid-body fails with what arrived; connection refused is reported with its code', async () => {
  const srv = await server((s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const first = ev('Hel', 0);
    s.write(`${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n`);
    setTimeout(() => s.destroy(), 20);
  });
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  const r = await c.send(row, 3);
  c.dispose();
  const port = new URL(srv.url).port;
  await srv.close();
  assert.equal(r.ok, false);
  assert.equal(r.error, 'stream closed before it ended');
  assert.equal(r.text, 'Hel');
  const refused = new RawStreamClient({ baseUrl: `http://127.0.0.1:${port}`, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  const r2 = await refused.send(row, 3);
  refused.dispose();
  assert.match(r2.error ?? '', /^ECONNREFUSED: /);
});

test('abortAll cancels every request in flight and keeps what each received', async () => {
  const srv = await server((s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const first = ev('A', 0);
    s.write(`${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n`);
  });
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  const pending = [c.send(row, 3), c.send(row, 3), c.send(row, 3)];
  await new Promise((r) => setTimeout(r, 50));
  c.abortAll();
  const rs = await Promise.all(pending);
  c.dispose();
  await srv.close();
  for (const r of rs) {
    assert.equal(r.error, 'cancelled');
    assert.equal(r.text, 'A');
  }
});

test('preconnect opens that many connections before any request, and requests then use them', async () => {
  const srv = await server((s) => chunked(s, sse, 100000));
  const c = new RawStreamClient({ baseUrl: srv.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  await c.preconnect(150, 64);
  // the server accepts on its own loop turns: let it catch up (no request has been sent)
  for (let i = 0; i < 2000 && srv.conns() < 150; i++) await new Promise((r) => setTimeout(r, 1));
  assert.equal(srv.conns(), 150);
  const rs = await Promise.all(Array.from({ length: 150 }, () => c.send(row, 3)));
  c.dispose();
  await srv.close();
  assert.ok(rs.every((r) => r.ok));
  assert.equal(srv.conns(), 150);
});

test('header values go out byte for byte as node:http sends them (latin1), the body as UTF-8', async () => {
  let seen: Buffer | undefined;
  const srv = await server((s) => chunked(s, sse, 100000));
  const tap = net.createServer((sock) => {
    const up = net.connect(Number(new URL(srv.url).port), '127.0.0.1');
    sock.once('data', (d) => (seen = Buffer.from(d)));
    sock.pipe(up).pipe(sock);
  });
  await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
  const c = new RawStreamClient({ baseUrl: `http://127.0.0.1:${(tap.address() as net.AddressInfo).port}`, api: 'completions', headers: { 'X-Value': 'caf\u00e9;\u00a0x' }, payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  const r = await c.send({ prompt: 'wörld', promptLen: 1, outputLen: 3 }, 3);
  c.dispose();
  await new Promise<void>((res) => tap.close(() => res()));
  await srv.close();
  assert.equal(r.ok, true);
  const wire = seen ?? Buffer.alloc(0);
  assert.ok(wire.includes(Buffer.from('X-Value: caf\u00e9;\u00a0x\r\n', 'latin1')), wire.toString('latin1'));
  assert.ok(wire.includes(Buffer.from('wörld', 'utf8')));
});

/**
 * How many concurrent SSE streams and tokens/s the emulator's zero-cost mode sustains on this
 * machine (issue 3 target: >= 5,000 streams and >= 500k tokens/s). The server runs in a child
 * process (`moebench sim serve --zero-cost`); the client here is deliberately lean: raw TCP
 * sockets, hand-written HTTP/1.1 requests on keep-alive connections, and event counting with
 * Buffer.indexOf (no JSON parsing), so the figure measures the server, not the client.
 *
 *   node --import tsx scripts/bench-sim.ts [--streams 5000] [--seconds 10] [--tokens 1000] [--api completions|generate|chat]
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { simCommand } from '../src/cli/commands/sim';

interface Args {
  streams: number;
  seconds: number;
  tokens: number;
  api: 'completions' | 'generate' | 'chat';
  port: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { streams: 5000, seconds: 10, tokens: 1000, api: 'completions', port: 39117 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--streams') a.streams = Number(v);
    else if (argv[i] === '--seconds') a.seconds = Number(v);
    else if (argv[i] === '--tokens') a.tokens = Number(v);
    else if (argv[i] === '--api' && (v === 'completions' || v === 'generate' || v === 'chat')) a.api = v;
    else if (argv[i] === '--port') a.port = Number(v);
    else continue;
    i++;
  }
  return a;
}

function requestBytes(a: Args): Buffer {
  const path = a.api === 'generate' ? '/generate' : a.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const body =
    a.api === 'generate'
      ? JSON.stringify({ text: 'bench', sampling_params: { max_new_tokens: a.tokens, ignore_eos: true }, stream: true })
      : a.api === 'chat'
        ? JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'bench' }], max_tokens: a.tokens, ignore_eos: true, stream: true })
        : JSON.stringify({ model: 'm', prompt: 'bench', max_tokens: a.tokens, ignore_eos: true, stream: true });
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`);
}

const EVENT = Buffer.from('data: {');
const DONE = Buffer.from('data: [DONE]');

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const server = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve-child', '--port', String(a.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  server.stdout.setEncoding('utf8');
  let url = '';
  for await (const chunk of server.stdout) {
    url += String(chunk);
    if (url.includes('\n')) break;
  }
  const req = requestBytes(a);
  let events = 0;
  let completed = 0;
  let open = 0;
  let stopping = false;
  const sockets: Socket[] = [];

  const startStream = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: a.port });
      s.setNoDelay(true);
      sockets.push(s);
      let tail: Buffer = Buffer.alloc(0);
      s.once('connect', () => {
        open++;
        s.write(req);
        resolve();
      });
      s.once('error', reject);
      s.on('data', (buf: Buffer) => {
        // markers split across reads: look only at the seam (tail + first bytes of buf)
        if (tail.length) {
          const seam = Buffer.concat([tail, buf.subarray(0, DONE.length)]);
          for (let i = 0; i < tail.length; i++) {
            if (i + EVENT.length > tail.length && seam.indexOf(EVENT, i) === i) events++;
            if (i + DONE.length > tail.length && seam.indexOf(DONE, i) === i) {
              completed++;
              if (!stopping) s.write(req);
            }
          }
        }
        let i = buf.indexOf(EVENT);
        while (i >= 0) {
          events++;
          i = buf.indexOf(EVENT, i + EVENT.length);
        }
        let d = buf.indexOf(DONE);
        while (d >= 0) {
          completed++;
          if (!stopping) s.write(req);
          d = buf.indexOf(DONE, d + DONE.length);
        }
        tail = Buffer.from(buf.subarray(Math.max(0, buf.length - (DONE.length - 1))));
      });
    });

  // open connections in waves so the accept queue never overflows
  const t0 = performance.now();
  for (let i = 0; i < a.streams; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, a.streams - i) }, startStream));
  }
  const connectSec = (performance.now() - t0) / 1000;
  // warm up, then measure a window
  await new Promise((r) => setTimeout(r, 2000));
  const e0 = events;
  const c0 = completed;
  const w0 = performance.now();
  const perSecond: number[] = [];
  let last = events;
  for (let s = 0; s < a.seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    perSecond.push(events - last);
    last = events;
  }
  const windowSec = (performance.now() - w0) / 1000;
  const tokensPerSec = (events - e0) / windowSec;
  stopping = true;
  for (const s of sockets) s.destroy();
  server.kill('SIGTERM');
  await once(server, 'exit');
  const min = Math.min(...perSecond);
  console.log(`emulator zero-cost mode, ${a.api} streaming, ${a.tokens} tokens per request`);
  console.log(`concurrent streams (open keep-alive connections, each always streaming): ${open}`);
  console.log(`connections opened in ${connectSec.toFixed(2)} s`);
  console.log(`SSE token events per second (mean over ${windowSec.toFixed(1)} s): ${Math.round(tokensPerSec).toLocaleString('en-US')}`);
  console.log(`slowest second: ${min.toLocaleString('en-US')} events; requests completed in window: ${completed - c0}`);
}

if (process.argv.includes('--serve-child')) {
  void simCommand(['serve', '--zero-cost', '--port', String(parseArgs(process.argv.slice(2)).port)]).then((code) => process.exit(code));
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/**
 * Hostile strings through the other fields that reach a path, a URL, an HTTP request or a remote
 * command: the bench target URL and header values, dataset paths, shell-cell headers, the ssh
 * working directory and login name. (A cluster's `preamble` and a shell cell's body are shell the
 * user writes on purpose, so they are not "input" here: they are code, guarded by workspace trust.)
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../src/core/cells/bench';
import { ShellCellExecutor } from '../../src/core/cells/shell';
import { headlessHost } from '../../src/core/host';
import type { CellContext } from '../../src/core/exec/cell';
import { LocalCluster } from '../../src/core/launch/local/local-cluster';
import { Session } from '../../src/core/exec/session';
import { loadDataset } from '../../src/core/load/datasets';
import { DatasetError } from '../../src/core/load/datasets/errors';
import { CellReferenceError, MoeBenchError, RunInvalidError, SpecValidationError } from '../../src/core/util/errors';
import { startLab, type Lab } from '../lab/lab';
import { labCluster, recordingHost } from '../integration/ssh/helpers';
import { hostileCorpus } from './corpus';
import { canaryDir, figure, FULL, sharedScratch, yamlQuote } from './helpers';

const canary = canaryDir();
const corpus = hostileCorpus({ canary: canary.file });
const scratch = sharedScratch('moebench-hostile-other-');
/** CI tries an evenly spread sample of the corpus where each try costs a request or a login */
const sample = (n: number): string[] => (FULL ? corpus : corpus.filter((_, i) => i % Math.ceil(corpus.length / n) === 0));
let lab: Lab | undefined;
let tried = 0;

function ctx(session: Session, language: string): CellContext {
  return { session, cell: { index: 0, name: 'hostile', language }, emit: () => undefined, signal: new AbortController().signal, host: headlessHost() };
}

function fieldNamed(err: unknown, field: string): boolean {
  if (!(err instanceof MoeBenchError)) return false;
  const places = err instanceof SpecValidationError && err.issues.length ? err.issues.map((i) => i.where) : [err.where];
  return places.some((w) => w.field !== undefined && (w.field === field || w.field.startsWith(`${field}.`)));
}

/** a loopback server that records every request and answers 404 */
async function recordingServer(): Promise<{ port: number; requests: { method: string; url: string; host: string; headers: http.IncomingHttpHeaders }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string; host: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers });
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function benchCell(target: string, headers = ''): string {
  return [`name: hostile`, `target: ${yamlQuote(target)}`, 'api: generate', headers, 'workload: { dataset: random, numPrompts: 1, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0'].filter(Boolean).join('\n');
}

describe('hostile strings in URLs, headers, paths and shell-cell headers', () => {
  before(async () => {
    lab = await startLab({ nodes: 1 });
  });
  after(async () => {
    await lab?.stop();
  });

  test('bench target URL: a hostile path is refused naming `target`, or every request stays on the one loopback host under that path', async () => {
    const server = await recordingServer();
    const session = new Session({ notebookPath: path.join(scratch, 'nb', 'x.moebench'), toolVersion: 'test' });
    let accepted = 0;
    let refused = 0;
    try {
      for (const s of sample(300)) {
        tried++;
        const target = `http://127.0.0.1:${server.port}/${s}`;
        const before = server.requests.length;
        try {
          await new BenchCellExecutor().execute(benchCell(target), ctx(session, 'moebench-bench'));
        } catch (err) {
          if (fieldNamed(err, 'target')) {
            refused++;
            continue;
          }
          assert.ok(err instanceof MoeBenchError, `${JSON.stringify(s.slice(0, 80))}: ${String(err)}`);
        }
        accepted++;
        const prefix = new URL(target).pathname.replace(/\/+$/, '');
        const mine = server.requests.slice(before);
        assert.ok(mine.length > 0, `no request arrived for ${JSON.stringify(s.slice(0, 80))}`);
        for (const r of mine) {
          assert.equal(r.host, `127.0.0.1:${server.port}`);
          assert.ok(r.url.startsWith(prefix), `${JSON.stringify(s.slice(0, 80))}: request ${JSON.stringify(r.url.slice(0, 120))} is not under ${JSON.stringify(prefix.slice(0, 120))}`);
        }
      }
    } finally {
      await session.dispose();
      await server.close();
    }
    figure({ 'url-strings-tried': accepted + refused, 'url-refused': refused, 'url-requests-on-loopback': server.requests.length });
  });

  test('bench header values: refused naming the header, or sent as exactly one header with exactly that value', async () => {
    const server = await recordingServer();
    const session = new Session({ notebookPath: path.join(scratch, 'nb', 'x.moebench'), toolVersion: 'test' });
    let refused = 0;
    let sent = 0;
    try {
      for (const s of sample(300)) {
        tried++;
        const before = server.requests.length;
        try {
          await new BenchCellExecutor().execute(benchCell(`http://127.0.0.1:${server.port}`, `headers: { X-Hostile: ${yamlQuote(s)} }`), ctx(session, 'moebench-bench'));
        } catch (err) {
          // the recording server answers 404, so a run that sent its requests ends invalid
          // (zero tokens): that is a sent header, checked below; any other failure must name it
          if (!(err instanceof RunInvalidError)) {
            assert.ok(fieldNamed(err, 'headers'), `${JSON.stringify(s.slice(0, 80))}: ${String(err)}`);
            refused++;
            continue;
          }
        }
        sent++;
        const mine = server.requests.slice(before);
        assert.ok(mine.length > 0);
        // Node hands header values over as latin1; compare what went on the wire
        for (const r of mine) assert.equal(r.headers['x-hostile'], s.replace(/^[ \t]+|[ \t]+$/g, ''));
      }
    } finally {
      await session.dispose();
      await server.close();
    }
    figure({ 'header-strings-tried': sent + refused, 'header-refused': refused });
  });

  test('dataset paths: every hostile path is read as that one file name (a typed error naming it), never interpreted', async () => {
    const base = path.join(scratch, 'datasets');
    let n = 0;
    for (const s of corpus) {
      tried++;
      await assert.rejects(loadDataset({ name: 'sharegpt', numPrompts: 1, seed: 1, path: s }, base), (err: unknown) => {
        assert.ok(err instanceof DatasetError, String(err));
        assert.equal(err.where.file, path.resolve(base, s));
        return true;
      });
      n++;
    }
    figure({ 'dataset-paths-tried': n });
  });

  test('shell-cell headers: a hostile cluster or node name is a typed reference error; nothing runs', async () => {
    const session = new Session({ notebookPath: path.join(scratch, 'nb', 'x.moebench'), toolVersion: 'test' });
    session.clusters.set('here', new LocalCluster('here', 0), 'cluster');
    const marker = path.join(scratch, 'shell-ran');
    let n = 0;
    try {
      // a newline ends a header line: what follows is script text, which is the cell's code
      for (const s of corpus.filter((x) => !/[\n\r\u2028\u2029\u0085]/.test(x) && !x.includes('\0')).slice(0, FULL ? undefined : 3000)) {
        for (const header of [`# cluster: ${s}`, `# nodes: ${s}`, `# nodes: [${yamlQuote(s)}]`]) {
          tried++;
          n++;
          const source = `${header}\ntouch ${marker}-$$\n`;
          try {
            await new ShellCellExecutor().execute(source, ctx(session, 'shellscript'));
            // only a header that names the real cluster or node may run
            assert.ok(['here', 'local', 'all', '[all]', '"local"', '["local"]', '[local]'].includes(s.trim()) || /^\s*$/.test(s), `ran with ${header}`);
          } catch (err) {
            assert.ok(err instanceof CellReferenceError || err instanceof SpecValidationError, `${header.slice(0, 100)}: ${String(err)}`);
          }
        }
      }
    } finally {
      await session.dispose();
    }
    figure({ 'shell-headers-tried': n });
  });

  test('ssh working directory: a hostile directory name arrives as exactly that directory', async () => {
    assert.ok(lab);
    const cluster = await labCluster(lab, ['node1']);
    const base = path.join(scratch, 'cwd');
    mkdirSync(base, { mode: 0o777 });
    let n = 0;
    try {
      const names = corpus.filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..' && Buffer.byteLength(s) < 200);
      for (const s of FULL ? names : names.filter((_, i) => i % Math.ceil(names.length / 400) === 0)) {
        tried++;
        const dir = path.join(base, s);
        mkdirSync(dir, { mode: 0o777 });
        const r = await cluster.exec('node1', ['pwd'], { cwd: dir });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.ok(Buffer.from(r.stdout, 'utf8').equals(Buffer.from(`${dir}\n`, 'utf8')), `cwd ${JSON.stringify(s)} arrived as ${JSON.stringify(r.stdout)}`);
        n++;
      }
    } finally {
      await cluster.dispose();
    }
    figure({ 'ssh-cwd-tried': n });
  });

  test('ssh login name: a hostile user name fails to log in with a typed error', async () => {
    assert.ok(lab);
    const node = lab.nodes[0];
    let n = 0;
    for (const s of sample(FULL ? corpus.length : 60)) {
      tried++;
      const cluster = await labCluster(lab, [{ name: 'n', host: node.host, port: node.port, user: s, identityFile: lab.identityFile }], recordingHost(), { sshConfigPath: undefined, knownHostsPath: lab.knownHostsPath });
      try {
        await assert.rejects(cluster.exec('n', ['true']), (err: unknown) => err instanceof MoeBenchError);
      } finally {
        await cluster.dispose();
      }
      n++;
    }
    figure({ 'ssh-users-tried': n });
  });

  test('no payload was executed anywhere: the canary directory is empty', async () => {
    await new Promise((r) => setTimeout(r, 500));
    figure({ 'other-values-tried': tried, 'other-executions': canary.files().length });
    assert.deepEqual(canary.files(), []);
  });
});

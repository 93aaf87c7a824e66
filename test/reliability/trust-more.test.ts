/**
 * Issue 17, the other trust boundaries (trust-boundaries.test.ts has env names and login
 * shells). One family per class, generated variants, a canary or a victim that must survive, and
 * FIGURE lines with tries, rejections and executions.
 *
 * 3  stop: planted pid files, boot_id links, forged records -> only our own group ever dies
 * 4  trust anchors: notebook known_hosts variants never beat the user's own; hostile HostKeyAlias never written
 * 5  exit codes: failed-request rates through `moebench run` -> exit 1 unless --allow-invalid
 * 7  secrets: every header name, unapproved destinations -> nothing sent, nothing stored
 * 8  stored outputs: every MIME type and plot key we do not write -> dropped
 * 9  terminal: ssh_configs with Match exec / LocalCommand / KnownHostsCommand -> never run
 * 10 error markdown: hostile stderr rendered by markdown-it with linkify and html on -> no link, image, heading
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import MarkdownIt from 'markdown-it';
import { runCommand } from '../../src/cli/commands/run';
import { BenchCellExecutor } from '../../src/core/cells/bench';
import { headlessHost, type HostServices } from '../../src/core/host';
import type { CellContext } from '../../src/core/exec/cell';
import { LocalCluster } from '../../src/core/launch/local/local-cluster';
import { createSshCluster } from '../../src/core/launch/ssh/ssh-cluster';
import { Session } from '../../src/core/exec/session';
import { parseNotebook, serializeNotebook } from '../../src/core/notebook/format';
import { errorMarkdown } from '../../src/core/output/error-markdown';
import { validateOutputDoc } from '../../src/core/output/validate-doc';
import { startRemoteProcess, stopRemoteProcess, type RemoteProcessState } from '../../src/core/launch/shell';
import { Rng } from '../../src/core/sim/rng';
import { CommandFailedError } from '../../src/core/util/errors';
import { startLab, type Lab } from '../lab/lab';
import { recordingHost } from '../integration/ssh/helpers';
import { canaryDir, figure, FULL, sharedScratch } from './helpers';

const run = promisify(execFile);
const canary = canaryDir();
const scratch = sharedScratch('moebench-trust-more-');
let lab: Lab | undefined;

function liveGroup(pgid: number): boolean {
  return execFileSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .some((l) => {
      const [g, st] = l.trim().split(/\s+/);
      return Number(g) === pgid && !st?.startsWith('Z');
    });
}

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  let err = '';
  const o = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { value: await fn(), err };
  } finally {
    process.stderr.write = o;
  }
}

function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? filesUnder(path.join(dir, f)) : [path.join(dir, f)])) : [];
}

describe('a shared notebook is not an attack (stop, trust files, exit codes, secrets, outputs, terminal, markdown)', () => {
  before(async () => {
    lab = await startLab({ nodes: 2 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('class 3, stop: planted pid files, boot_id links and forged records never aim a stop at another group', async () => {
    const cluster = new LocalCluster('here', 0);
    const victims = [0, 1].map(() => {
      const c = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
      c.unref();
      return c.pid ?? 0;
    });
    // the test runner's own group is a victim too: it must never be signalled
    const own = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim());
    const targets = [...victims, own];
    const rng = new Rng(3);
    let tries = 0;
    let refused = 0;
    try {
      for (let i = 0; i < (FULL ? 40 : 12); i++) {
        const base = path.join(scratch, `stop-${i}`);
        const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd', name: `p${i}`, argv: ['sleep', '600'], baseDir: base });
        const dir = path.join(base, 'd', `p${i}`);
        const target = targets[i % targets.length];
        // variant: plain pid file, pid file as a link to a file naming the victim, boot_id link, both
        rmSync(path.join(dir, 'pid'), { force: true });
        if (i % 2 === 0) writeFileSync(path.join(dir, 'pid'), `${target}\n`);
        else {
          writeFileSync(path.join(base, 'elsewhere'), `${target}\n`);
          symlinkSync(path.join(base, 'elsewhere'), path.join(dir, 'pid'));
        }
        if (i % 3 !== 0) symlinkSync('/proc/sys/kernel/random/boot_id', path.join(dir, 'boot_id'));
        tries++;
        assert.equal(await stopRemoteProcess(cluster, state, { graceMs: 500 }), 'terminated');
        assert.equal(liveGroup(state.pgid), false);
        // a forged record naming the victim, with a made-up token and start time
        const forged: RemoteProcessState = { ...state, pgid: target, token: rng.next().toString(16).slice(2).padEnd(32, '0').slice(0, 32).replace(/[^0-9a-f]/g, '0'), leaderStart: String(rng.int(1, 1e9)) };
        tries++;
        if ((await stopRemoteProcess(cluster, forged, { graceMs: 200 })) === 'not-running') refused++;
      }
      const killed = targets.filter((t) => !liveGroup(t)).length;
      figure({ 'stop-tries': tries, 'stop-forged-refused': refused, 'stop-victims-killed': killed });
      assert.equal(killed, 0);
    } finally {
      for (const v of victims) {
        try {
          process.kill(-v, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  test('class 4, trust anchors: no notebook known_hosts variant makes a changed key pass; hostile HostKeyAlias values are never written', async () => {
    assert.ok(lab);
    const l = lab;
    const lines = readFileSync(l.knownHostsPath, 'utf8').trim().split('\n');
    const n1 = lines.find((x) => x.startsWith(`[${l.nodes[0].host}]`)) ?? '';
    const n2 = lines.find((x) => x.startsWith(`[${l.nodes[1].host}]`)) ?? '';
    const realKey = n1.split(' ').slice(1).join(' ');
    const userKh = path.join(scratch, 'user_kh');
    writeFileSync(userKh, `${n1.split(' ')[0]} ${n2.split(' ').slice(1).join(' ')}\n`);
    const hashed = execFileSync('bash', ['-c', `f=$(mktemp); echo "$1" > "$f"; ssh-keygen -q -H -f "$f" >/dev/null 2>&1; cat "$f"; rm -f "$f" "$f.old"`, 'x', n1], { encoding: 'utf8' });
    const variants = [n1, hashed.trim(), `* ${realKey}`, `127.0.0.*,[${l.nodes[0].host}]:${l.nodes[0].port} ${realKey}`, `@cert-authority * ${realKey}`, `${n1}\n${n1}`];
    let tries = 0;
    let refused = 0;
    for (const [i, v] of variants.entries()) {
      const nbKh = path.join(scratch, `nb_kh_${i}`);
      writeFileSync(nbKh, `${v}\n`);
      const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['node1'], sshConfigPath: l.sshConfigPath, knownHostsPath: userKh }, recordingHost({ acceptNewHostKeys: true }), { agentSocket: null, homeDir: l.clientHome, notebookFiles: { knownHostsPath: nbKh } });
      tries++;
      try {
        await cluster.exec('node1', ['touch', `${canary.file}-kh-${i}`]);
      } catch {
        refused++;
      } finally {
        await cluster.dispose();
      }
      assert.equal(readFileSync(nbKh, 'utf8'), `${v}\n`, 'the notebook file was written');
    }
    const aliases = ['$(touch X)', '"a b"', 'x,*', '@revoked', '|1|a|b', '-oX=y', 'a;b', 'a\tb', '*', '!x'];
    let aliasWrites = 0;
    for (const [i, a] of aliases.entries()) {
      const home = path.join(scratch, `alias-home-${i}`);
      mkdirSync(home, { recursive: true });
      const cfg = path.join(home, 'cfg');
      writeFileSync(cfg, `Host n1\n  HostName ${l.nodes[0].host}\n  Port ${l.nodes[0].port}\n  User ${l.user}\n  IdentityFile ${l.identityFile}\n  HostKeyAlias ${a.replace('X', `${canary.file}-alias`)}\n`);
      const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['n1'], sshConfigPath: cfg }, recordingHost({ acceptNewHostKeys: true }), { agentSocket: null, homeDir: home, notebookFiles: { sshConfig: true } });
      tries++;
      await cluster.exec('n1', ['true']).catch(() => refused++);
      await cluster.dispose();
      const kh = path.join(home, '.ssh', 'known_hosts');
      if (existsSync(kh) && readFileSync(kh, 'utf8').trim() !== '') aliasWrites++;
    }
    figure({ 'trust-file-tries': tries, 'trust-file-refusals': refused, 'trust-file-hostile-writes': aliasWrites, 'trust-file-executions': canary.files().length });
    assert.equal(refused, tries);
    assert.equal(aliasWrites, 0);
    assert.deepEqual(canary.files(), []);
  });

  test('class 5, exit codes: a run whose requests failed exits 1 for every failure rate above 1%, 0 with --allow-invalid', async () => {
    let tries = 0;
    let exits1 = 0;
    for (const failEvery of [2, 3, 10]) {
      let n = 0;
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          if (n++ % failEvery === 0) return void res.writeHead(500).end('{}');
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(`data: ${JSON.stringify({ text: 'ab', output_ids: [1, 2], meta_info: { prompt_tokens: 4, completion_tokens: 2, finish_reason: { type: 'length', length: 2 } } })}\n\ndata: [DONE]\n\n`);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const dir = mkdtempSync(path.join(scratch, 'exit-'));
      const file = path.join(dir, 'n.moebench');
      const bench = ['name: b', `target: http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'api: generate', 'workload: { dataset: random, numPrompts: 10, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0'].join('\n');
      writeFileSync(file, serializeNotebook({ metadata: {}, cells: [{ kind: 'code', language: 'moebench-bench', source: bench }] }));
      tries++;
      const strict = await quietly(() => runCommand([file]));
      if (strict.value === 1) exits1++;
      const allowed = await quietly(() => runCommand([file, '--allow-invalid']));
      server.close();
      assert.equal(allowed.value, 0, allowed.err);
    }
    figure({ 'exit-code-tries': tries, 'exit-code-failures-reported': exits1 });
    assert.equal(exits1, tries);
  });

  test('class 6, hung servers: silent before headers, after headers, after the first token: the run ends, every request counted', async () => {
    let tries = 0;
    let counted = 0;
    for (const mode of ['no-headers', 'headers', 'first-token'] as const) {
      const open: http.ServerResponse[] = [];
      const server = http.createServer((req, res) => {
        req.resume();
        if (req.url !== '/generate') return void res.writeHead(404).end();
        open.push(res);
        if (mode === 'no-headers') return;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (mode === 'headers') res.flushHeaders();
        else res.write(`data: ${JSON.stringify({ text: 'a', output_ids: [1], meta_info: { prompt_tokens: 4, completion_tokens: 1 } })}\n\n`);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const dir = mkdtempSync(path.join(scratch, 'hang-'));
      const session = new Session({ notebookPath: path.join(dir, 'nb.moebench'), toolVersion: 'test' });
      const logs: string[] = [];
      const ctx: CellContext = { session, cell: { index: 0, name: 'h', language: 'moebench-bench' }, emit: (e) => void (e.kind === 'log' && logs.push(e.text)), signal: new AbortController().signal, host: headlessHost({ settings: { 'bench.allowInvalid': true } }) };
      tries++;
      try {
        const cell = ['name: h', `target: http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'api: generate', 'workload: { dataset: random, numPrompts: 3, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0', 'idleTimeoutSec: 1'].join('\n');
        await new BenchCellExecutor().execute(cell, ctx).catch(() => undefined);
        if (/0 completed, 3 failed/.test(logs.join(''))) counted++;
      } finally {
        for (const r of open) r.destroy();
        server.close();
        await session.dispose();
      }
    }
    figure({ 'hang-tries': tries, 'hang-runs-ended-with-all-counted': counted });
    assert.equal(counted, tries);
  });

  test('class 7, secrets: a secret in any header name is redacted everywhere; unapproved destinations get nothing', async () => {
    const SECRET = 'sk-reliability-5e1d9c2a';
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(JSON.stringify(req.headers));
      req.resume();
      req.on('end', () => {
        if (req.url !== '/generate') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ text: 'ab', output_ids: [1, 2], meta_info: { prompt_tokens: 4, completion_tokens: 2, finish_reason: { type: 'length', length: 2 } } })}\n\ndata: [DONE]\n\n`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const rng = new Rng(7);
    const names = ['User-Agent', 'Accept', 'Content-Type', 'X-Request-Id', 'Authorization', 'X-Api-Key', 'Cookie', 'Referer', ...Array.from({ length: FULL ? 40 : 12 }, () => `X-${Math.floor(rng.next() * 1e9).toString(36)}`)];
    const dir = mkdtempSync(path.join(scratch, 'secrets-'));
    const session = new Session({ notebookPath: path.join(dir, 'nb.moebench'), toolVersion: 'test' });
    const host = (consents: string[]): HostServices => ({ ...headlessHost({ settings: { consents } }), getSecret: async () => SECRET });
    const ctx = (h: HostServices): CellContext => ({ session, cell: { index: 0, name: 'b', language: 'moebench-bench' }, emit: () => undefined, signal: new AbortController().signal, host: h });
    const cell = (target: string, hdrs: string[]): string => ['name: b', `target: ${JSON.stringify(target)}`, 'api: generate', `headers: { ${hdrs.map((h) => `${h}: "v=\${secret:tok}"`).join(', ')} }`, 'workload: { dataset: random, numPrompts: 2, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0'].join('\n');
    let tries = 0;
    let refusals = 0;
    try {
      // unapproved destinations: other ports, other hosts, userinfo tricks, the approved origin's look-alikes
      const approved = [`secret:tok@${url}`];
      for (const target of [url.replace(/:(\d+)$/, ':1'), `http://127.0.0.2:${url.split(':')[2]}`, `https://127.0.0.1:${url.split(':')[2]}`, `http://127.0.0.1:${url.split(':')[2]}@127.0.0.3:1`, 'other-deployment']) {
        tries++;
        await new BenchCellExecutor().execute(cell(target, ['Authorization']), ctx(host(approved))).then(
          () => assert.fail(`sent to ${target}`),
          () => refusals++,
        );
      }
      assert.ok(!seen.join('').includes(SECRET), 'an unapproved destination received the secret');
      tries++;
      await new BenchCellExecutor().execute(cell(url, names), ctx(host(approved)));
      assert.ok(seen.some((s) => s.includes(SECRET)));
      const leaks = filesUnder(dir).filter((f) => readFileSync(f, 'utf8').includes(SECRET));
      figure({ 'secret-header-names': names.length, 'secret-tries': tries, 'secret-destinations-refused': refusals, 'secret-leaks': leaks.length });
      assert.deepEqual(leaks, []);
    } finally {
      await session.dispose();
      server.close();
    }
  });

  test('class 8, stored outputs: every output type and plot key we do not write is dropped before anything renders', () => {
    const mimes = ['text/html', 'application/javascript', 'text/javascript', 'image/svg+xml', 'image/png', 'image/jpeg', 'application/vnd.code.notebook.error', 'application/vnd.plotly.v1+json', 'application/x-ipywidgets+json', 'application/vnd.jupyter.widget-view+json', 'text/latex', 'application/pdf', 'text/x-javascript', 'application/ecmascript', 'TEXT/HTML', 'text/html; charset=utf-8'];
    const layoutKeys = ['images', 'template', 'updatemenus', 'sliders', 'mapbox', 'geo', 'scene', 'polar', 'modebar', 'newshape', 'selections', 'hoverlabel'];
    const traceTypes = ['image', 'scattermapbox', 'choroplethmapbox', 'densitymapbox', 'scattergeo', 'surface', 'sankey', 'parcoords'];
    let tries = 0;
    let dropped = 0;
    for (const mime of mimes) {
      tries++;
      const nb = parseNotebook(JSON.stringify({ format: 'moebench-notebook', version: 1, metadata: {}, cells: [{ kind: 'code', language: 'x', source: [], outputs: [{ items: [{ mime, data: `<img src="http://127.0.0.1:9/${mime}">` }] }] }] }));
      if (!nb.cells[0].outputs?.length) dropped++;
    }
    for (const k of layoutKeys) {
      tries++;
      const r = validateOutputDoc({ blocks: [{ type: 'plot', id: 'p', data: [], layout: { [k]: [{ source: 'http://127.0.0.1:9/x.png' }], title: { text: '<a href="http://x">t</a>' } } }] });
      assert.ok('doc' in r);
      const layout = (r.doc.blocks[0] as { layout: Record<string, unknown> }).layout;
      if (!(k in layout) && !JSON.stringify(layout).includes('href')) dropped++;
    }
    for (const t of traceTypes) {
      tries++;
      const r = validateOutputDoc({ blocks: [{ type: 'plot', id: 'p', data: [{ type: t, source: 'http://127.0.0.1:9/y.png' }] }] });
      assert.ok('doc' in r);
      if ((r.doc.blocks[0] as { data: unknown[] }).data.length === 0) dropped++;
    }
    figure({ 'stored-output-tries': tries, 'stored-output-dropped': dropped, 'stored-output-rendered': tries - dropped });
    assert.equal(dropped, tries);
  });

  test('class 9, terminal: no ssh_config a notebook names reaches OpenSSH (Match exec, LocalCommand, KnownHostsCommand)', async () => {
    assert.ok(lab);
    const l = lab;
    const hooks = (mark: string): string[] => [`Match exec "touch ${mark}"`, `PermitLocalCommand yes\n  LocalCommand touch ${mark}`, `KnownHostsCommand /bin/sh -c "touch ${mark}"`];
    let tries = 0;
    let logins = 0;
    for (const [i, hook] of hooks(`${canary.file}-term`).entries()) {
      const cfg = path.join(scratch, `term_cfg_${i}`);
      const body = hook.startsWith('Match') ? `${hook}\n  User ${l.user}\nHost n1\n` : `Host n1\n  ${hook}\n`;
      writeFileSync(cfg, `${body}  HostName ${l.nodes[0].host}\n  Port ${l.nodes[0].port}\n  User ${l.user}\n  IdentityFile ${l.identityFile}\n`);
      const cluster = await createSshCluster({ name: 'c', gpusPerNode: 0, nodes: ['n1'], sshConfigPath: cfg, knownHostsPath: l.knownHostsPath }, recordingHost(), { agentSocket: null, homeDir: l.clientHome, notebookFiles: { sshConfig: true } }).catch(() => undefined);
      if (!cluster) continue;
      try {
        const { argv } = cluster.terminal('n1');
        const dd = argv.indexOf('--');
        tries++;
        const r = await run(argv[0], [...argv.slice(1, dd), '-o', 'BatchMode=yes', ...argv.slice(dd), 'hostname']).catch(() => undefined);
        if (r?.stdout.trim() === 'node1') logins++;
      } finally {
        await cluster.dispose();
      }
    }
    figure({ 'terminal-tries': tries, 'terminal-logins': logins, 'terminal-executions': canary.files().length });
    assert.ok(tries >= 2);
    assert.deepEqual(canary.files(), []);
  });

  test('class 10, error markdown: hostile remote stderr renders with no link, image, heading or HTML', () => {
    const md = new MarkdownIt({ html: true, linkify: true });
    const rng = new Rng(10);
    const pieces = ['# Heading', '## x', 'Title\n===', '- [login](http://evil.example/a)', '1. item', '> quote', '| a | b |\n|---|---|', '```\ncode', '![img](http://evil.example/p.png)', '<img src=http://evil.example/i>', '<script>alert(1)</script>', 'http://evil.example/x', 'www.evil.example', 'evil.example/path', 'mailto:a@evil.example', '[x][r]\n\n[r]: http://evil.example', '<http://evil.example>', '    indented', '***', '\\', '`code`'];
    let tries = 0;
    let unsafe = 0;
    for (let i = 0; i < (FULL ? 2000 : 300); i++) {
      const stderr = Array.from({ length: rng.int(1, 5) }, () => pieces[rng.int(0, pieces.length - 1)]).join(rng.next() < 0.5 ? '\n' : ' ');
      tries++;
      const html = md.render(errorMarkdown(new CommandFailedError(`Starting rank-0 failed: ${stderr}`, { node: 'n1' }, `see ${stderr}`)));
      if (/<a |<img|<h[1-6]|<script|<li|<blockquote|<table/.test(html)) unsafe++;
    }
    figure({ 'error-markdown-tries': tries, 'error-markdown-unsafe': unsafe });
    assert.equal(unsafe, 0);
  });
});

/**
 * Secrets never land in files: an API key given to a bench cell as `${secret:NAME}` (read from the
 * environment in a headless run, SecretStorage in VS Code) and the passphrase of an encrypted SSH
 * key used to log in to real OpenSSH nodes. The notebook is run by the CLI process; afterwards
 * every file it wrote (the output notebook, everything under .moebench/) and everything it
 * printed is scanned for both canaries. The secrets must have been used for real: the server saw
 * the key, the nodes accepted the login.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { passphraseSecretKey } from '../../src/core/launch/ssh/ssh-auth';
import { startLab, type Lab } from '../lab/lab';
import { figure } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const API_KEY = `sk-canary-${process.pid}-${Date.now().toString(36)}-api`;
const PASSPHRASE = `pp-canary-${process.pid}-${Date.now().toString(36)}-ssh`;

/** A loopback stand-in for SGLang's streaming /generate that records the Authorization headers it saw. */
async function fakeSglang(): Promise<{ url: string; authorizations: string[]; close(): Promise<void> }> {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    req.resume();
    if (req.url === '/generate' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"text":"hi","meta_info":{"prompt_tokens":4,"completion_tokens":1,"finish_reason":null}}\n\n');
      res.end('data: {"text":"hi there","meta_info":{"prompt_tokens":4,"completion_tokens":2,"finish_reason":{"type":"length"}}}\n\ndata: [DONE]\n\n');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorizations, close: () => new Promise((r) => server.close(() => r())) };
}

/** the CLI as a child process, without blocking this process (the fake server lives here) */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'out', 'cli.js'), ...args], { encoding: 'utf8', timeout: 120_000, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function envName(key: string): string {
  return `MOEBENCH_SECRET_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

describe('secrets never land in notebooks, run stores, logs or reports', () => {
  let lab: Lab;
  let keyFile: string;
  before(async () => {
    lab = await startLab({ nodes: 2 });
    // an encrypted key whose passphrase is the canary, accepted by every node
    keyFile = path.join(lab.dir, 'canary_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'canary', '-f', keyFile]);
    const pub = readFileSync(`${keyFile}.pub`, 'utf8');
    for (const n of lab.nodes) {
      const ak = path.join(lab.nodeHome(n.name), '.ssh', 'authorized_keys');
      if (existsSync(ak)) appendFileSync(ak, pub);
    }
    appendFileSync(path.join(lab.dir, 'authorized_keys'), pub);
  });
  after(() => lab.stop());

  test('a headless notebook run with an API key and an encrypted SSH key writes neither anywhere', async () => {
    const server = await fakeSglang();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-secrets-'));
    chmodSync(dir, 0o755);
    const nodes = lab.nodes.map((n) => `{ name: ${n.name}, host: ${n.host}, port: ${n.port}, user: ${lab.user}, identityFile: ${JSON.stringify(keyFile)} }`);
    const cell = (language: string, source: string): unknown => ({ kind: 'code', language, source: source.split('\n') });
    const nb = path.join(dir, 'secrets.moebench');
    writeFileSync(
      nb,
      JSON.stringify({
        format: 'moebench-notebook',
        version: 1,
        metadata: {},
        cells: [
          cell('moebench-cluster', `name: lab\nkind: ssh\ngpusPerNode: 0\nnodes: [${nodes.join(', ')}]`),
          cell('shellscript', '# cluster: lab\n# nodes: all\nhostname'),
          cell('moebench-bench', ['name: keyed', `target: ${server.url}`, 'api: generate', 'headers: { Authorization: "Bearer ${secret:api-key}", X-Team: moe }', 'workload: { dataset: random, numPrompts: 20, inputLen: 4, outputLen: 2 }', 'load: { requestRate: 200 }', 'warmup: 1'].join('\n')),
          cell('moebench-report', 'name: report\ncompare: [keyed]\nexport: [md, csv, html]'),
        ],
      }),
    );
    const out = path.join(dir, 'secrets.out.moebench');
    const r = await cli(['run', nb, '-o', out, '--known-hosts', lab.knownHostsPath, '--allow-secret', `api-key@${server.url}`, '--log-output'], { ...process.env, HOME: lab.clientHome, SSH_AUTH_SOCK: '', [envName('api-key')]: API_KEY, [envName(passphraseSecretKey(keyFile))]: PASSPHRASE });
    // the CLI: a bench cell with a header can also be given on the command line
    const store = path.join(dir, 'cli-store');
    const b = await cli(['bench', '--base-url', server.url, '--header', `Authorization=Bearer ${API_KEY}`, '--num-prompts', '5', '--random-input-len', '4', '--random-output-len', '2', '--run-store', store, '--format', 'json']);
    await server.close();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(b.status, 0, `${b.stdout}\n${b.stderr}`);
    // the secrets were really used
    assert.ok(server.authorizations.filter((a) => a === `Bearer ${API_KEY}`).length >= 20, `server saw ${server.authorizations.length} requests`);
    const written = readFileSync(out, 'utf8');
    assert.match(written, /node1/, 'the shell cell ran on the nodes over ssh (logged in with the encrypted key)');
    // nothing written or printed holds either secret
    const files = [out, ...walk(path.join(dir, '.moebench')), ...walk(store)];
    assert.ok(files.some((f) => f.endsWith('meta.json')) && files.some((f) => f.endsWith('requests.jsonl')) && files.some((f) => f.endsWith('summary.json')));
    const leaks: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'latin1');
      if (text.includes(API_KEY)) leaks.push(`${f}: API key`);
      if (text.includes(PASSPHRASE)) leaks.push(`${f}: passphrase`);
    }
    for (const [name, text] of [['run stdout', r.stdout], ['run stderr', r.stderr], ['bench stdout', b.stdout], ['bench stderr', b.stderr]]) {
      if (text.includes(API_KEY) || text.includes(PASSPHRASE)) leaks.push(name);
    }
    figure({ 'secret-files-scanned': files.length, 'secret-leaks': leaks.length });
    assert.deepEqual(leaks, []);
    // header names stay (a reader sees that a key was sent), their values do not
    const meta = files.filter((f) => f.endsWith('meta.json')).map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.match(meta, /"Authorization": "<redacted>"/);
    assert.match(meta, /"X-Team": "<redacted>"/);
  });
});

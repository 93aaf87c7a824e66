/**
 * Issue 17: a shared notebook must not be an attack. One family per trust boundary, each with
 * generated variants, each asserting that the canary never appears; a positive control per family
 * proves the detector sees the attack when the guard is bypassed.
 *
 * - env names that are code: generated members of every refused family (shell startup, loader,
 *   interpreters, plugin paths) × every place a deploy cell writes env × payload values, through
 *   the deploy cell on `local` and `sim` clusters: refused with field and line, nothing starts.
 * - quoting that assumed a POSIX login shell: the hostile corpus as argv and env values over real
 *   OpenSSH to users whose login shells are bash, dash, zsh, fish and tcsh.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployCellExecutor } from '../../src/core/cells/deploy';
import { headlessHost } from '../../src/core/host';
import type { CellContext } from '../../src/core/exec/cell';
import { envNameRisk } from '../../src/core/launch/env-policy';
import { LocalCluster } from '../../src/core/launch/local/local-cluster';
import type { Cluster } from '../../src/core/launch/types';
import { Session } from '../../src/core/exec/session';
import { planDeployCell } from '../../src/core/plan';
import { startRemoteProcess } from '../../src/core/launch/shell';
import { createSimCluster } from '../../src/core/sim/cluster';
import { Rng } from '../../src/core/sim/rng';
import { SpecValidationError } from '../../src/core/util/errors';
import { startLab, type Lab } from '../lab/lab';
import { labCluster } from '../integration/ssh/helpers';
import { hostileCorpus } from './corpus';
import { canaryDir, figure, FULL, sharedScratch, yamlQuote } from './helpers';

const canary = canaryDir();
const scratch = sharedScratch('moebench-trust-');
let lab: Lab | undefined;

/** members of each refused family: the issue's examples, the fixed names, and generated new members */
function refusedNames(count: number): string[] {
  const rng = new Rng(17);
  const word = (n: number): string => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'[Math.floor(rng.next() * 37)]).join('');
  const fixed = ['BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PS1', 'PROMPT_COMMAND', 'IFS', 'PATH', 'HOME', 'ZDOTDIR', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'GCONV_PATH', 'PYTHONSTARTUP', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'PERL5OPT', 'RUBYOPT', 'NODE_OPTIONS', 'JAVA_TOOL_OPTIONS', 'NCCL_NET_PLUGIN', 'CC', 'GIT_SSH_COMMAND'];
  const generated: string[] = [];
  const makers = [(): string => `LD_${word(6)}`, (): string => `BASH_FUNC_${word(5).toLowerCase()}`, (): string => `PYTHON${word(7)}X`, (): string => `${word(4)}_PLUGIN`, (): string => `DYLD_${word(5)}`, (): string => `GIT_${word(5)}`];
  while (generated.length < count) generated.push(makers[generated.length % makers.length]());
  return [...fixed, ...generated];
}

function cellText(place: 'env' | 'unified.env' | 'router.env', name: string, value: string): string {
  const head = ['name: trust', 'cluster: c', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/m'];
  const v = yamlQuote(value);
  if (place === 'router.env') {
    return [...head, 'prefill:', '  nodes: [node1]', '  gpusPerNode: 8', '  parallel: { tp: 8 }', '  ports: { server: 41000, bootstrap: 41500 }', 'decode:', '  nodes: [node1]', '  gpusPerNode: 8', '  baseGpuId: 8', '  parallel: { tp: 8 }', '  ports: { server: 42000 }', `router: { port: 43000, env: { ${name}: ${v} } }`].join('\n');
  }
  return [...head, ...(place === 'env' ? [`env: { ${name}: ${v} }`] : []), 'unified:', '  nodes: [node1]', '  parallel: { tp: 8 }', ...(place === 'unified.env' ? [`  env: { ${name}: ${v} }`] : [])].join('\n');
}

const PLAN_CLUSTER = { name: 'c', kind: 'local', nodes: [{ name: 'node1', address: '127.0.0.1', gpus: 16 }] };
const PLACES = ['env', 'unified.env', 'router.env'] as const;

function ctxFor(session: Session): CellContext {
  return { session, cell: { index: 0, name: 'trust', language: 'moebench-deploy' }, emit: () => undefined, signal: new AbortController().signal, host: headlessHost() };
}

describe('a shared notebook is not an attack', () => {
  before(async () => {
    lab = await startLab({ nodes: 1 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('env names that are code: every generated member of every family is refused with its field and line', () => {
    const names = refusedNames(FULL ? 3000 : 300);
    const payloads = [`$(touch ${canary.file})`, `xtrace`, `${canary.file}`, `() { :; }; touch ${canary.file}`];
    let tries = 0;
    let rejections = 0;
    for (const [i, name] of names.entries()) {
      assert.ok(envNameRisk(name), `${name} is not refused`);
      const place = PLACES[i % PLACES.length];
      const value = payloads[i % payloads.length];
      tries++;
      try {
        planDeployCell(cellText(place, name, value), PLAN_CLUSTER, 'trust');
      } catch (err) {
        assert.ok(err instanceof SpecValidationError);
        const issue = err.issues.find((x) => x.where.field === `${place}.${name}`);
        assert.ok(issue?.where.line, `${name} in ${place}: the refusal must name the field and line`);
        rejections++;
        continue;
      }
      assert.fail(`${name} in ${place} was planned`);
    }
    figure({ 'env-name-tries': tries, 'env-name-rejections': rejections });
  });

  test('env names that are code: the deploy cell on local and sim clusters refuses before anything starts', async () => {
    const session = new Session({ notebookPath: path.join(scratch, 'nb', 'x.moebench'), toolVersion: 'test' });
    const local = new LocalCluster('c', 16);
    const sim = await createSimCluster({ name: 'c', nodes: ['node1'], gpusPerNode: 16 });
    let tries = 0;
    try {
      for (const cluster of [local, sim] as Cluster[]) {
        session.clusters.set('c', cluster, 'test');
        for (const [name, value] of [['BASH_ENV', `$(touch ${canary.file})`], ['SHELLOPTS', 'xtrace'], ['PS4', `$(touch ${canary.file})`], ['ENV', `$(touch ${canary.file})`], ['LD_PRELOAD', `${canary.file}.so`], ['PYTHONSTARTUP', canary.file]]) {
          for (const place of PLACES) {
            tries++;
            const text = cellText(place, name, value).replace(/node1/g, cluster.nodes[0].name);
            await assert.rejects(new DeployCellExecutor({ healthTimeoutMs: 2000 }).execute(text, ctxFor(session)), (err: unknown) => err instanceof SpecValidationError && err.issues.some((x) => x.where.field === `${place}.${name}` && x.where.line !== undefined));
          }
        }
      }
    } finally {
      await sim.dispose();
      await session.dispose();
    }
    await new Promise((r) => setTimeout(r, 300));
    figure({ 'env-name-deploy-tries': tries, 'env-name-executions': canary.files().length });
    assert.deepEqual(canary.files(), []);
  });

  test('env names that are code: positive control, the same names bypassing the plan run their value (local, and ssh to bash)', async () => {
    assert.ok(lab);
    const local = new LocalCluster('c', 0);
    await startRemoteProcess(local, 'local', { deploymentId: 'control', name: 'bash-env', argv: ['bash', '-c', 'true'], env: { BASH_ENV: `$(touch ${canary.file}-local)` }, baseDir: path.join(scratch, 'sup') });
    const cluster = await labCluster(lab, ['node1']);
    try {
      await cluster.exec('node1', ['bash', '-c', 'true'], { env: { SHELLOPTS: 'xtrace', PS4: `$(touch ${canary.file}-ssh)` } });
    } finally {
      await cluster.dispose();
    }
    for (let i = 0; i < 100 && canary.files().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(canary.files().sort(), ['pwned-local', 'pwned-ssh']);
    for (const f of canary.files()) rmSync(path.join(canary.dir, f));
  });

  test('quoting: the hostile corpus as argv and env values over ssh to bash, dash, zsh, fish and tcsh login shells', async () => {
    assert.ok(lab);
    // lone surrogates travel as U+FFFD, as any UTF-8 would carry them
    const corpus = hostileCorpus({ canary: canary.file }).filter((s) => !s.includes('\0')).map((s) => Buffer.from(s, 'utf8').toString('utf8'));
    const sample = FULL ? corpus : corpus.filter((_, i) => i % Math.ceil(corpus.length / 400) === 0);
    const shells: [string, string][] = [['bash', lab.user], ...Object.entries(lab.shellUsers)];
    let tries = 0;
    for (const [shell, user] of shells) {
      const cluster = await labCluster(lab, [{ name: 'n', host: lab.nodes[0].host, port: lab.nodes[0].port, user, identityFile: lab.identityFile }]);
      try {
        // batches under the kernel's 128 KiB for one argument
        for (let i = 0; i < sample.length; ) {
          const batch: string[] = [];
          let bytes = 0;
          while (i < sample.length && (batch.length === 0 || bytes + Buffer.byteLength(sample[i]) * 4 < 96 * 1024)) {
            bytes += Buffer.byteLength(sample[i]) * 4;
            batch.push(sample[i++]);
          }
          const r = await cluster.exec('n', ['printf', '%s\\0', ...batch], { captureLimitBytes: 1 << 22 });
          assert.equal(r.exitCode, 0, `${shell}: ${r.stderr.slice(0, 300)}`);
          assert.deepEqual(r.stdout.split('\0').slice(0, -1), batch, `${shell}: argv changed on the way`);
          const env = Object.fromEntries(batch.slice(0, 20).map((v, k) => [`H${k}`, v]));
          const e = await cluster.exec('n', ['env', '-0'], { env, captureLimitBytes: 1 << 22 });
          const got = new Set(e.stdout.split('\0'));
          for (const [k, v] of Object.entries(env)) assert.ok(got.has(`${k}=${v}`), `${shell}: env ${k} changed on the way`);
          tries += batch.length;
        }
      } finally {
        await cluster.dispose();
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    figure({ 'login-shells': shells.length, 'login-shell-values-tried': tries, 'login-shell-executions': canary.files().length });
    assert.ok(shells.length >= 5 || !process.getuid || process.getuid() !== 0, `as root the lab must offer 5 login shells, has ${shells.map((s) => s[0]).join(', ')}`);
    assert.deepEqual(canary.files(), []);
  });
});

/**
 * Hostile input through every deploy-spec field that reaches a command, a path, an env var or a
 * URL: spec -> plan -> argv -> the supervisor's scripts -> the one quoting function -> bash, for
 * real, on a local cluster and on real OpenSSH nodes. Each string must be rejected with a typed
 * error naming the field (and its line), or arrive at the started program byte for byte. Every
 * payload that a shell would act on creates a canary file; none may appear.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../src/core/launch/local/local-cluster';
import { shellCommand } from '../../src/core/launch/shell/shell-quote';
import type { Cluster } from '../../src/core/launch/types';
import { planDeployCell, type Plan } from '../../src/core/plan';
import { startRemoteProcess } from '../../src/core/launch/shell';
import { MoeBenchError, SpecValidationError } from '../../src/core/util/errors';
import { startLab, type Lab } from '../lab/lab';
import { labCluster } from '../integration/ssh/helpers';
import { hostileCorpus } from './corpus';
import { DEPLOY_FIELDS, LOCAL_PLAN_CLUSTER, type DeployField } from './deploy-fields';
import { canaryDir, figure, FULL, sharedScratch, writeRecorder } from './helpers';

const canary = canaryDir();
const corpus = hostileCorpus({ canary: canary.file });
const scratch = sharedScratch('moebench-hostile-');
const recorder = writeRecorder(scratch);

interface Accepted {
  field: string;
  value: string;
  argv: string[];
  env: Record<string, string>;
}

const accepted: Accepted[] = [];
let tried = 0;
let rejected = 0;
let lab: Lab | undefined;

/** does this error name `field` (its own field, or one of its issues'), with a line? */
function namesField(err: unknown, field: string): boolean {
  if (!(err instanceof MoeBenchError)) return false;
  const places = err instanceof SpecValidationError && err.issues.length ? err.issues.map((i) => i.where) : [err.where];
  return places.some((w) => w.field !== undefined && (w.field === field || w.field.startsWith(`${field}.`)) && w.line !== undefined);
}

function check(f: DeployField, s: string): void {
  tried++;
  let plan: Plan;
  try {
    plan = planDeployCell(f.yaml(s), LOCAL_PLAN_CLUSTER).plan;
  } catch (err) {
    rejected++;
    assert.ok(namesField(err, f.field), `a rejection of ${JSON.stringify(s.slice(0, 80))} in ${f.field} must name the field and its line; got ${err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)} ${JSON.stringify((err as SpecValidationError).issues?.map((i) => i.where))}` : String(err)}`);
    return;
  }
  if (f.acceptOnly) {
    assert.match(s, f.acceptOnly, `${f.field} accepted ${JSON.stringify(s.slice(0, 80))}`);
    return;
  }
  const want = f.expect(s);
  const carried = plan.processes.filter((p) => p.argv.includes(want) || Object.values(p.env).includes(want));
  assert.ok(carried.length > 0, `${f.field}: ${JSON.stringify(s.slice(0, 80))} was accepted but no argv element or env value is exactly ${JSON.stringify(want.slice(0, 80))}`);
  for (const p of carried) accepted.push({ field: f.field, value: s, argv: p.argv, env: p.env });
}

/** the whole command line an ssh exec would send, to keep a batch under the kernel's 128 KiB for one argument */
function commandBytes(argv: string[], env: Record<string, string>): number {
  return Buffer.byteLength(shellCommand([...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]));
}

/**
 * Start batches of accepted plans through the remote supervisor: one process per batch runs the
 * recorder with every plan's argv in a row and every plan's env under a prefixed name. Returns
 * the number of argv elements and env values compared.
 */
async function executeAll(cluster: Cluster, node: string, label: string, maxBatchBytes: number): Promise<{ compared: number; batches: number }> {
  let compared = 0;
  let batches = 0;
  let i = 0;
  while (i < accepted.length) {
    const argv: string[] = [];
    const env: Record<string, string> = {};
    let bytes = 0;
    const start = i;
    while (i < accepted.length) {
      const a = accepted[i];
      const prefixed = Object.fromEntries(Object.entries(a.env).map(([k, v]) => [`H${i}_${k}`, v]));
      const size = commandBytes(a.argv, prefixed);
      if (i > start && bytes + size > maxBatchBytes) break;
      argv.push(...a.argv);
      Object.assign(env, prefixed);
      bytes += size;
      i++;
    }
    const out = path.join(scratch, `${label}-${batches}`);
    batches++;
    await startRemoteProcess(cluster, node, { deploymentId: `hostile-${label}`, name: `batch-${batches}`, argv: [recorder, out, ...argv], env, baseDir: path.join(scratch, `supervisor-${label}`) });
    const deadline = Date.now() + 30_000;
    while (!existsSync(`${out}.args`)) {
      assert.ok(Date.now() < deadline, `batch ${batches} on ${label} never finished (${out})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = readFileSync(`${out}.args`);
    const want = Buffer.concat(argv.flatMap((a) => [Buffer.from(a, 'utf8'), Buffer.from([0])]));
    if (!got.equals(want)) {
      const gotParts = got.toString('utf8').split('\0');
      const k = argv.findIndex((a, j) => Buffer.from(a, 'utf8').toString('utf8') !== gotParts[j]);
      assert.fail(`${label}: argv element ${k} arrived as ${JSON.stringify(gotParts[k]?.slice(0, 120))}, expected ${JSON.stringify(argv[k]?.slice(0, 120))}`);
    }
    const envFile = readFileSync(`${out}.env`);
    const received = new Map<string, Buffer>();
    let from = 0;
    for (let j = envFile.indexOf(0); j >= 0; from = j + 1, j = envFile.indexOf(0, from)) {
      const entry = envFile.subarray(from, j);
      const eq = entry.indexOf(0x3d);
      received.set(entry.subarray(0, eq).toString('utf8'), entry.subarray(eq + 1));
    }
    for (const [k, v] of Object.entries(env)) {
      assert.ok(received.get(k)?.equals(Buffer.from(v, 'utf8')), `${label}: env ${k} arrived as ${JSON.stringify(received.get(k)?.toString('utf8').slice(0, 120))}, expected ${JSON.stringify(v.slice(0, 120))}`);
    }
    compared += argv.length + Object.keys(env).length;
  }
  return { compared, batches };
}

describe('hostile strings in deploy spec fields', () => {
  before(async () => {
    lab = await startLab({ nodes: 1 });
  });
  after(async () => {
    await lab?.stop();
  });

  test(`${corpus.length} hostile strings through ${DEPLOY_FIELDS.length} deploy fields: rejected naming the field and line, or planned verbatim`, () => {
    assert.ok(corpus.length >= 10_000, `corpus has ${corpus.length} strings`);
    // CI: every string through one field (rotating, so each field sees ~1/N of the corpus and
    // every payload family); full: every string through every field
    const rounds = FULL ? DEPLOY_FIELDS.length : 3;
    for (let r = 0; r < rounds; r++) {
      corpus.forEach((s, i) => check(DEPLOY_FIELDS[(i + r) % DEPLOY_FIELDS.length], s));
    }
    const fieldsTried = new Set(DEPLOY_FIELDS.map((f) => f.field)).size;
    figure({ 'hostile-strings': corpus.length, 'deploy-fields': fieldsTried, 'deploy-field-values-tried': tried, 'rejected-naming-field': rejected, 'accepted-processes': accepted.length });
  });

  test('accepted values reach a program started by the remote supervisor on a local cluster byte for byte', async () => {
    const cluster = new LocalCluster('here', 16);
    const r = await executeAll(cluster, 'local', 'local', 1024 * 1024);
    assert.ok(r.compared > accepted.length);
    figure({ 'local-executed-batches': r.batches, 'local-values-compared': r.compared });
  });

  test('the same over ssh to a real OpenSSH node (login shell, EXEC script, supervisor scripts)', async () => {
    assert.ok(lab);
    const cluster = await labCluster(lab, ['node1']);
    try {
      // the whole quoted command line travels as one argument of the node's `bash -c`
      const r = await executeAll(cluster, 'node1', 'ssh', 96 * 1024);
      figure({ 'ssh-executed-batches': r.batches, 'ssh-values-compared': r.compared });
    } finally {
      await cluster.dispose();
    }
  });

  test('the canary detector works: the same payloads pasted into a shell unquoted leave files (local and over ssh)', async () => {
    assert.ok(lab);
    const local = new LocalCluster('here', 0);
    await local.exec('local', ['bash', '-c', `echo ${corpus[0]}`]);
    const cluster = await labCluster(lab, ['node1']);
    try {
      await cluster.exec('node1', ['bash', '-c', `echo ${corpus[0]}`.replace('pwned', 'pwned-ssh')]);
    } finally {
      await cluster.dispose();
    }
    assert.deepEqual(canary.files().sort(), ['pwned', 'pwned-ssh']);
    for (const f of canary.files()) unlinkSync(path.join(canary.dir, f));
  });

  test('no payload was ever executed: the canary directory is empty', async () => {
    // anything started in the background by an interpreted payload gets a moment to land
    await new Promise((r) => setTimeout(r, 500));
    const files = canary.files();
    figure({ 'deploy-executions': files.length });
    assert.deepEqual(files, []);
  });
});

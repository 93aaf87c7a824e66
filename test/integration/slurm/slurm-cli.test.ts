import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeSimShims } from '../../../src/core/sim/shims';
import { assertBuilt, CLI, runCli, writeNotebook } from '../cli/helpers';
import { fixture, freePort } from '../deploy/helpers';
import { slurmLab, type SlurmLab } from './lab';

// The real built CLI (`npx moebench run`) on a notebook whose cluster is the Slurm lab: the first
// run leaves its deployment running (--keep-deployments) and exits; a second CLI process finds
// the allocation by its job name and the deployment by its record, adopts it without a restart,
// and benchmarks it.

let lab: SlurmLab;
let dir: string;

before(async () => {
  assertBuilt();
  lab = slurmLab();
  dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-slurm-cli-'));
  await writeSimShims(path.join(dir, 'bin'), { cliPath: CLI });
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('moebench run on a Slurm cluster', () => {
  test('a second CLI process re-attaches to the running job and deployment and benchmarks it', async (t) => {
    const name = `slurm-cli-${process.pid}`;
    const jobName = `moebench-${name}`;
    t.after(() => {
      for (const id of lab.slurm(['squeue', '-h', '-n', jobName, '-o', '%i']).trim().split('\n').filter(Boolean)) lab.slurm(['scancel', id]);
    });
    const ports = { server: await freePort('0.0.0.0', 300), bootstrap: await freePort('0.0.0.0'), router: await freePort('0.0.0.0') };
    const deploy = fixture('deploy-2p2d-slurm.yaml')
      .replace('name: pd-slurm', 'name: pd-cli')
      .replace('cluster: slurmlab', `cluster: ${name}`)
      .replace('server: 44000', `server: ${ports.server}`)
      .replace('bootstrap: 44500', `bootstrap: ${ports.bootstrap}`)
      .replace('port: 45000', `port: ${ports.router}`)
      .replace('nodes: [node1, node2]\n  replicas: 2', 'nodes: [node1]')
      .replace('nodes: [node3, node4]\n  replicas: 2', 'nodes: [node2]');
    const nb = path.join(dir, 'exp.moebench');
    writeNotebook(nb, [
      {
        language: 'moebench-cluster',
        lines: [`name: ${name}`, 'kind: slurm', 'nodes: 2', `partition: ${lab.partition}`, `logDir: ${JSON.stringify(path.join(dir, 'slurm'))}`, 'env:', `  SLURM_CONF: ${JSON.stringify(lab.slurmConf)}`, `  PATH: ${JSON.stringify(`${path.join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`)}`, '  MOEBENCH_SIM_ZERO_COST: "1"'],
      },
      { language: 'moebench-deploy', lines: deploy.trimEnd().split('\n') },
      { language: 'moebench-bench', lines: ['name: smoke', 'target: pd-cli', 'workload: { dataset: random, numPrompts: 8, inputLen: 32, outputLen: 4, seed: 1 }', 'load: { maxConcurrency: 2 }'] },
    ]);

    const first = await runCli(['run', nb, '-o', path.join(dir, 'first.moebench'), '--keep-deployments', '--allow-env', 'PATH'], { timeoutMs: 170_000 });
    assert.equal(first.code, 0, first.stderr);
    const [jobId, state] = lab.slurm(['squeue', '-h', '-n', jobName, '-o', '%i %T']).trim().split(' ');
    assert.equal(state, 'RUNNING', 'the allocation outlives the first CLI with its deployment');
    const steps = lab.slurm(['squeue', '-h', '-s', '-j', jobId, '-o', '%j']).trim().split('\n').filter((l) => l.startsWith('pd-cli.')).sort();
    assert.deepEqual(steps, ['pd-cli.decode-0.rank-0', 'pd-cli.prefill-0.rank-0', 'pd-cli.router']);

    const second = await runCli(['run', nb, '-o', path.join(dir, 'second.moebench'), '--keep-deployments', '--allow-env', 'PATH'], { timeoutMs: 170_000 });
    assert.equal(second.code, 0, second.stderr);
    const out = readFileSync(path.join(dir, 'second.moebench'), 'utf8');
    assert.match(out, new RegExp(`found job ${jobId}|Slurm job ${jobId} \\(${jobName}\\): RUNNING`));
    assert.match(out, /Re-attached to running deployment/);
    assert.match(out, /adopted without a restart/);
    // the same job, the same steps: nothing was restarted
    assert.deepEqual(lab.slurm(['squeue', '-h', '-s', '-j', jobId, '-o', '%j']).trim().split('\n').filter((l) => l.startsWith('pd-cli.')).sort(), steps);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { clusterKind, clusterSpecSchema } from '../../../src/core/cluster-kinds';
import { batchScript, stepArgv } from '../../../src/core/launch/slurm/batch';
import { describeEnd, gpusOfGres, parseJobDetail, parseNodeDetails, parseSbatchParsable, parseSqueueJobs, parseSqueueSteps } from '../../../src/core/launch/slurm/cli';
import { slurmSpecSchema } from '../../../src/core/launch/slurm/spec';
import { slurmKind } from '../../../src/core/launch/slurm/kind';
import { shellCommand } from '../../../src/core/launch/shell/shell-quote';
import { planDeployCell } from '../../../src/core/plan/planner';
import { parseSpec } from '../../../src/core/spec/yaml-spec';
import { SpecValidationError } from '../../../src/core/util/errors';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

const pyxis = slurmSpecSchema.parse({
  name: 'h200',
  kind: 'slurm',
  nodes: 13,
  partition: 'batch',
  account: 'moe-perf',
  qos: 'high',
  timeLimit: '04:00:00',
  sbatch: ['--exclusive'],
  container: { image: 'lmsysorg/sglang:v0.5.1-cu126', mounts: ['/lustre/models:/models:ro', '/lustre/expert:/expert'], workdir: '/sgl-workspace' },
});

describe('slurm plan: batch script and step commands', () => {
  test('the batch script holds the allocation with every directive the cell asked for, one per line', () => {
    assert.equal(
      batchScript(pyxis).split('\n').filter((l) => l.startsWith('#SBATCH')).join('\n'),
      [
        '#SBATCH --job-name=moebench-h200',
        '#SBATCH --nodes=13',
        '#SBATCH --ntasks-per-node=1',
        '#SBATCH --no-requeue',
        '#SBATCH --gres=gpu:8',
        '#SBATCH --partition=batch',
        '#SBATCH --account=moe-perf',
        '#SBATCH --qos=high',
        '#SBATCH --time=04:00:00',
        '#SBATCH --output=%x-%j.out',
        '#SBATCH --exclusive',
      ].join('\n'),
    );
    // the batch shell never hands $SLURM_NODEID to anything: ranks are written into each step
    assert.doesNotMatch(batchScript(pyxis).split('\n').filter((l) => !l.startsWith('#')).join('\n'), /SLURM_NODEID/);
    assert.match(batchScript(pyxis), /\nexec sleep infinity\n$/);
  });

  test('a rank with a pyxis container is one srun --overlap step on its node with --container-image, mounts and workdir', () => {
    const argv = stepArgv(pyxis, { jobId: '4242', host: 'gpu-07', stepName: 'ds-4p9d.decode-0.rank-2' }, ['python3', '-m', 'sglang.launch_server', '--node-rank', '2']);
    assert.equal(
      shellCommand(argv),
      'srun --jobid=4242 --overlap --nodes=1 --ntasks=1 --nodelist=gpu-07 --job-name=ds-4p9d.decode-0.rank-2 --container-image=lmsysorg/sglang:v0.5.1-cu126 --no-container-entrypoint --no-container-mount-home --container-mounts=/lustre/models:/models:ro,/lustre/expert:/expert --container-workdir=/sgl-workspace python3 -m sglang.launch_server --node-rank 2',
    );
    // exec (telemetry, shell cells) runs on the bare node
    assert.equal(shellCommand(stepArgv(pyxis, { jobId: '4242', host: 'gpu-07', stepName: 'moebench-exec' }, ['nvidia-smi'], { container: false })), 'srun --jobid=4242 --overlap --nodes=1 --ntasks=1 --nodelist=gpu-07 --job-name=moebench-exec nvidia-smi');
  });

  test('an apptainer image wraps the command in apptainer exec --nv with its binds; the preamble runs inside the step', () => {
    const spec = slurmSpecSchema.parse({ name: 'a', kind: 'slurm', nodelist: ['n1'], gpuRequest: 'gpus-per-node', preamble: 'module load cuda', container: { runtime: 'apptainer', image: '/images/sglang.sif', mounts: ['/data:/data'] } });
    assert.match(batchScript(spec), /#SBATCH --nodelist=n1\n/);
    assert.match(batchScript(spec), /#SBATCH --gpus-per-node=8\n/);
    assert.equal(
      shellCommand(stepArgv(spec, { jobId: '7', host: 'n1', stepName: 'x.router' }, ['python3', '-V'])),
      `srun --jobid=7 --overlap --nodes=1 --ntasks=1 --nodelist=n1 --job-name=x.router apptainer exec --nv --bind /data:/data /images/sglang.sif bash -c 'module load cuda\nexec "$@"' moebench-preamble python3 -V`,
    );
  });

  test('moebench plan of the 4P+9D sample on a slurm cluster prints one srun --container-image step per rank with its node rank and dist-init address', () => {
    const nb = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'notebooks', 'samples', 'slurm-4p9d.moebench'), 'utf8')) as { cells: { language: string; source: string[] }[] };
    const cell = (lang: string): string => (nb.cells.find((c) => c.language === lang)?.source ?? []).join('\n');
    const { spec } = parseSpec(clusterSpecSchema, cell('moebench-cluster'), { cell: 'c', kind: 'moebench-cluster' });
    assert.equal(spec.kind, 'slurm');
    const kind = clusterKind(spec.kind);
    assert.ok(kind?.launchPreview);
    const { cluster } = kind.preview(spec);
    const { plan } = planDeployCell(cell('moebench-deploy'), cluster, 'deploy');
    const text = kind.launchPreview(spec, plan);
    const steps = text.split('\n').filter((l) => /^(env .* )?srun --jobid=JOBID /.test(l));
    assert.equal(steps.length, 14, '13 server ranks and the router');
    const decode2 = steps.find((l) => l.includes('--job-name=ds-4p9d.decode-0.rank-2'));
    assert.ok(decode2);
    // the rank's environment is set on the srun client, which exports it to the task (--export=ALL)
    assert.match(decode2, /^env SGL_ENABLE_JIT_DEEPGEMM=1 SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK=256 srun --jobid=JOBID --overlap --nodes=1 --ntasks=1 '--nodelist=<node7>' --job-name=ds-4p9d\.decode-0\.rank-2 --container-image=lmsysorg\/sglang:v0\.5\.1-cu126 --no-container-entrypoint --no-container-mount-home --container-mounts=\/lustre\/models:\/models:ro,\/lustre\/expert:\/expert --container-workdir=\/sgl-workspace python3 -m sglang\.launch_server /);
    assert.match(decode2, / python3 -m sglang\.launch_server .*--dist-init-addr node5:5757 --nnodes 9 --node-rank 2( |$)/);
    assert.match(text, /# \| #SBATCH --nodes=13\n/);
  });
});

describe('slurm cluster cell schema', () => {
  test('bad values are refused with the field named', () => {
    const bad = (yaml: string): string[] => {
      try {
        parseSpec(clusterSpecSchema, yaml, { cell: 'c', kind: 'moebench-cluster' });
        return [];
      } catch (err) {
        assert.ok(err instanceof SpecValidationError);
        return err.issues.map((i) => `${i.where.field}: ${i.message}`);
      }
    };
    assert.deepEqual(bad('name: x\nkind: slurm\nnodes: 2\npartition: "gpu; rm -rf /"\n'), ['partition: partition: use letters, digits, ".", "_" or "-"']);
    assert.match(bad('name: x\nkind: slurm\n').join(), /nodes: .*say how many nodes/);
    assert.match(bad('name: x\nkind: slurm\nnodes: 2\ntimeLimit: "2 hours"\n').join(), /timeLimit: .*Slurm time/);
    assert.match(bad('name: x\nkind: slurm\nnodes: 2\nsbatch: ["--exclusive\\n#SBATCH --uid=0"]\n').join(), /sbatch.0: .*one option per item/);
    assert.match(bad('name: x\nkind: slurm\nnodes: 3\nnodelist: [a, b]\n').join(), /disagrees/);
    assert.deepEqual(bad('name: x\nkind: slurm\nnodes: 2\ntimeLimit: "1-12:00:00"\n'), []);
  });
});

describe('slurm command output parsers (formats of Slurm 22.05 as printed by the lab)', () => {
  test('sbatch --parsable: a job id, optionally with the cluster', () => {
    assert.equal(parseSbatchParsable('12\n'), '12');
    assert.equal(parseSbatchParsable('12;cluster-a\n'), '12');
    assert.throws(() => parseSbatchParsable('sbatch: error: Batch job submission failed'), /no job id/);
  });

  test('squeue jobs and steps', () => {
    assert.deepEqual(parseSqueueJobs('3|big|PENDING|PartitionConfig|9||0:00|UNLIMITED\n1|envtest|RUNNING|None|2|node[1-2]|0:07|30:00\n'), [
      { jobId: '3', name: 'big', state: 'PENDING', reason: 'PartitionConfig', nodeCount: 9, nodeList: '', elapsed: '0:00', timeLimit: 'UNLIMITED' },
      { jobId: '1', name: 'envtest', state: 'RUNNING', reason: 'None', nodeCount: 2, nodeList: 'node[1-2]', elapsed: '0:07', timeLimit: '30:00' },
    ]);
    assert.deepEqual(
      parseSqueueSteps('2.0|pd.prefill-0.rank-0|node1\n2.batch|batch|node1\n').map((s) => [s.jobId, s.step, s.name, s.nodeList]),
      [
        ['2', '0', 'pd.prefill-0.rank-0', 'node1'],
        ['2', 'batch', 'batch', 'node1'],
      ],
    );
  });

  test('scontrol show job -o / show node -o', () => {
    const job = parseJobDetail('JobId=4 JobName=small UserId=root(0) JobState=CANCELLED Reason=Priority Dependency=(null) ExitCode=0:15 NodeList=node[1-2] BatchHost=node1 StdOut=/tmp/with space/slurm-4.out TimeLimit=UNLIMITED RunTime=00:00:07\n');
    assert.deepEqual(job && [job.jobId, job.state, job.reason, job.exitCode, job.nodeList, job.batchHost], ['4', 'CANCELLED', 'Priority', '0:15', 'node[1-2]', 'node1']);
    const nodes = parseNodeDetails('NodeName=node1 Arch=x86_64 CoresPerSocket=1 CPUAlloc=1 CPUTot=8 Gres=gpu:8 NodeAddr=127.0.77.1 NodeHostName=vm State=MIXED\nNodeName=gpu-07 Gres=gpu:h200:8(S:0-1) NodeAddr=10.0.0.7 State=ALLOCATED\n');
    assert.deepEqual(nodes.map((n) => [n.name, n.address, n.gpus]), [
      ['node1', '127.0.77.1', 8],
      ['gpu-07', '10.0.0.7', 8],
    ]);
    assert.equal(gpusOfGres('gpu:4,shard:8'), 4);
    assert.equal(describeEnd('TIMEOUT', 'TimeLimit'), 'TIMEOUT: the time limit was reached; Slurm reason: TimeLimit');
  });

  test('the slurm kind previews node1..nodeN for the planner before any allocation', () => {
    const { cluster, notes } = slurmKind.preview(slurmSpecSchema.parse({ name: 'x', kind: 'slurm', nodes: 3 }));
    assert.deepEqual(cluster.nodes.map((n) => n.name), ['node1', 'node2', 'node3']);
    assert.match(notes.join(), /hostlist order/);
  });
});

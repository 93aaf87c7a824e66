import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterCellExecutor } from '../../../src/core/cells/cluster';
import { ShellCellExecutor } from '../../../src/core/cells/shell';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import { headlessHost } from '../../../src/core/host';
import { SlurmCluster } from '../../../src/core/launch/slurm/cluster';
import { startLab, type Lab } from '../../lab/lab';
import { Events } from '../deploy/helpers';
import { slurmLab, type SlurmLab } from './lab';

// The Slurm commands run on a login node reached over SSH (a real sshd of test/lab, as its test
// user), not on this machine: sbatch, squeue, scancel and every srun step go through the ssh
// layer, and the job belongs to the login user.

let lab: SlurmLab;
let ssh: Lab;
let logDir: string;

before(async () => {
  lab = slurmLab();
  ssh = await startLab({ nodes: 1 });
  // the batch job runs as the login user on the Slurm nodes: its output directory must be theirs to write
  logDir = mkdtempSync(path.join(os.tmpdir(), 'moebench-slurm-ssh-'));
  chmodSync(logDir, 0o1777);
});
after(async () => {
  await ssh?.stop();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

describe('slurm cluster with its login node over SSH', () => {
  test('the allocation is submitted, checked and used through the login node, runs as the login user, and is released at session end', async (t) => {
    const name = `slurm-ssh-${process.pid}`;
    const host = headlessHost({ settings: { 'ssh.configFile': ssh.sshConfigPath } });
    const session = new Session({ notebookPath: path.join(logDir, 'nb', 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    const ctx = (events: Events, language: string, cell: string): CellContext => ({ session, cell: { index: 0, name: cell, language }, emit: events.sink, signal: new AbortController().signal, host });
    const cell = [`name: ${name}`, 'kind: slurm', 'login: { ssh: node1 }', 'nodes: 2', `partition: ${lab.partition}`, `logDir: ${JSON.stringify(logDir)}`, 'env:', `  SLURM_CONF: ${JSON.stringify(lab.slurmConf)}`, ''].join('\n');
    const events = new Events();
    await new ClusterCellExecutor().execute(cell, ctx(events, 'moebench-cluster', name));
    const cluster = session.clusters.get(name);
    assert.ok(cluster instanceof SlurmCluster);
    assert.match(events.docText('cluster'), /"OK"/);
    const owner = lab.slurm(['squeue', '-h', '-j', cluster.jobId, '-o', '%u %T']).trim();
    assert.equal(owner, `${ssh.user} RUNNING`);

    const shell = new Events();
    await new ShellCellExecutor().execute(`# cluster: ${name}\necho "$(id -un) on $SLURMD_NODENAME"\n`, ctx(shell, 'shellscript', 'who'));
    for (const n of cluster.nodes) assert.match(shell.logText(), new RegExp(`^\\[${n.name}\\] ${ssh.user} on ${cluster.hostOf(n.name)}$`, 'm'));

    await session.dispose();
    assert.equal(lab.slurm(['squeue', '-h', '-n', `moebench-${name}`, '-o', '%i %T']).trim(), '');
  });
});

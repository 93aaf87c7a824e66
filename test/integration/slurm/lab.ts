/**
 * The Slurm lab for these tests: scripts/slurm-lab.sh (a real slurmctld + 8 slurmd on this
 * machine; `.ci/run` starts it, and `start` here is idempotent, so a plain `npm test` works too).
 * A lab that cannot start fails the test with the script's own message: these tests never skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');

export interface SlurmLab {
  slurmConf: string;
  partition: string;
  /** a partition over the same nodes whose jobs preempt (cancel) the default partition's */
  urgentPartition: string;
  nodes: string[];
  addresses: string[];
  gpusPerNode: number;
  /** runs a Slurm command against the lab (as a user at a terminal would) */
  slurm(argv: string[]): string;
}

export function slurmLab(): SlurmLab {
  const dir = process.env.MOEBENCH_SLURM_LAB ?? '/tmp/moebench-slurm-lab';
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'slurm-lab.sh'), 'start'], { encoding: 'utf8', env: { ...process.env, MOEBENCH_SLURM_LAB: dir } });
  if (r.status !== 0) {
    throw new Error(`The Slurm lab did not start (scripts/slurm-lab.sh start exited ${r.status}; scripts/install-tools.sh installs slurm-wlm and munge):\n${r.stdout}\n${r.stderr}`);
  }
  const info = JSON.parse(readFileSync(path.join(dir, 'lab.json'), 'utf8')) as Omit<SlurmLab, 'slurm'>;
  return {
    ...info,
    slurm: (argv) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, SLURM_CONF: info.slurmConf } }),
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanCluster } from '../../../src/core/plan/resolve';

export const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'plan');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** gpu-01..gpu-NN at 10.0.0.1.., 8 GPUs each (H100/H200 nodes) */
export function sshCluster(name: string, count: number, gpus = 8): PlanCluster {
  return {
    name,
    kind: 'ssh',
    nodes: Array.from({ length: count }, (_, i) => ({ name: `gpu-${String(i + 1).padStart(2, '0')}`, address: `10.0.0.${i + 1}`, gpus })),
  };
}

/** the loopback test cluster: node1..node4 at 127.0.0.2.., 2 GPUs each */
export function testCluster(): PlanCluster {
  return { name: 'test', kind: 'ssh', nodes: [1, 2, 3, 4].map((i) => ({ name: `node${i}`, address: `127.0.0.${i + 1}`, gpus: 2 })) };
}

/** argv tail -> flag => value ('' for switches), after canonicalising aliases */
export function flagMap(argv: readonly string[], canonical: (flag: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  let i = argv.findIndex((a) => a.startsWith('--'));
  while (i >= 0 && i < argv.length) {
    const flag = canonical(argv[i]);
    const values: string[] = [];
    let j = i + 1;
    while (j < argv.length && !argv[j].startsWith('--')) values.push(argv[j++]);
    out.set(flag, values.join(' '));
    i = j;
  }
  return out;
}

import type { Cluster } from '../cluster/types';
import type { CellContext } from './types';
import type { ClusterSpec } from './cluster';
import { CellReferenceError } from '../util/errors';

type SimSpec = Extract<ClusterSpec, { kind: 'sim' }>;
type SshSpec = Extract<ClusterSpec, { kind: 'ssh' }>;

/**
 * Builders for the cluster kinds that live in their own modules (sim in core/sim, ssh in
 * core/cluster/ssh-*). Loaded lazily so a local-only notebook never loads ssh2.
 */
export const clusterFactories = {
  async sim(spec: SimSpec, _ctx: CellContext): Promise<Cluster> {
    const nodes = typeof spec.nodes === 'number' ? Array.from({ length: spec.nodes }, (_, i) => `node${i + 1}`) : spec.nodes;
    void nodes;
    throw new CellReferenceError('kind: sim is not available in this build', {}, 'Use kind: local.');
  },
  async ssh(_spec: SshSpec, _ctx: CellContext): Promise<Cluster> {
    throw new CellReferenceError('kind: ssh is not available in this build', {}, 'Use kind: local.');
  },
};

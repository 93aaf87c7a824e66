/**
 * `clients:` in a bench cell: the load runs on cluster nodes (client shards over SSH) instead of
 * this machine's threads. Resolves the cluster, the server address as the nodes see it, and the
 * node names; the run itself is src/core/load/client-nodes.ts and remote-shards.ts.
 */
import { launchedDeployment } from '../deploy';
import { isClientNodeHost, type ClientNodesContext } from '../load/client-nodes';
import { SpecValidationError } from '../util/errors';
import type { BenchSpec } from '../spec/bench-spec';
import type { CellContext } from '../exec/cell';
import { resolveTarget } from '../exec/targets';

export function resolveClientNodes(spec: BenchSpec, ctx: CellContext): ClientNodesContext | undefined {
  const clients = spec.clients;
  if (!clients) return undefined;
  if (spec.workers !== undefined) {
    throw new SpecValidationError('`workers:` sets this machine\'s load threads, which do not run when `clients:` is set: use clients.workers (load threads per client node)', { cell: spec.name, field: 'workers' }, 'Remove `workers:` and set clients.workers.');
  }
  let url: string;
  let cluster;
  const target = resolveTarget(ctx.session, spec.target, spec.name);
  if (target.kind === 'url') {
    // the nodes reach the URL themselves (a node address or a load balancer, not this machine's loopback)
    url = target.url;
    cluster = clients.cluster ? ctx.session.clusters.get(clients.cluster, spec.name) : ctx.session.defaultCluster(spec.name);
  } else {
    const d = launchedDeployment(target.deployment, { cell: spec.name, field: 'clients', why: 'Client nodes need a moebench-deploy deployment (its in-cluster address) or a URL the nodes can reach.' });
    // the deployment's in-cluster address, not our SSH forward
    url = d.plan.endpoint.url;
    cluster = clients.cluster ? ctx.session.clusters.get(clients.cluster, spec.name) : d.cluster;
  }
  for (const n of clients.nodes) cluster.node(n);
  if (!isClientNodeHost(cluster)) {
    throw new SpecValidationError(`clients: cluster "${cluster.name}" (${cluster.kind}) cannot host client shards; they run on ssh clusters`, { cell: spec.name, field: 'clients' }, 'Remove `clients:` to drive the load from this machine, or use an ssh cluster.');
  }
  return {
    host: cluster,
    nodes: clients.nodes,
    workers: clients.workers,
    nodeBinary: clients.node,
    url,
    onLog: (node, text) => ctx.emit({ kind: 'log', stream: 'stderr', text: text.split('\n').filter((l) => l.trim()).map((l) => `[client ${node}] ${l}\n`).join('') }),
  };
}

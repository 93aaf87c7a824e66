import type { Plan, PlannedProcess } from '../plan';

/**
 * The address a planned process listens on: the value of its last `--host` (argparse keeps the
 * last one, so a `--host` in extraArgs wins), or undefined when it has none (SGLang and vLLM then
 * bind loopback). Read from the argv itself, so records saved before this existed work too.
 * `Cluster.httpEndpoint` turns wildcards and loopback into "the node's own loopback".
 */
export function listenHost(p: Pick<PlannedProcess, 'argv'>): string | undefined {
  let host: string | undefined;
  p.argv.forEach((token, i) => {
    if (token === '--host' && i + 1 < p.argv.length) host = p.argv[i + 1];
    else if (token.startsWith('--host=')) host = token.slice('--host='.length);
  });
  return host;
}

/** the process clients talk to: the router, or the rank-0 server the endpoint names */
export function endpointProcess(plan: Plan): PlannedProcess | undefined {
  const e = plan.endpoint;
  return plan.processes.find((p) => p.node === e.node && p.port === e.port && (e.via === 'router' ? p.role === 'router' : p.role !== 'router' && p.nodeRank === 0));
}

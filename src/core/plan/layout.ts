import type { BuiltCommand } from '../engines/command-pieces';
import type { GroupRole } from '../spec/deploy-spec';
import type { ResolvedDeployment, ResolvedGroup, ResolvedInstance } from './resolve';
import { engineOf } from '../engines';

/** One process the deployment runs: a server rank on a node, or the router. */
export interface LaidOutProcess {
  id: string;
  role: GroupRole | 'router';
  group?: ResolvedGroup;
  instance?: ResolvedInstance;
  nodeRank: number;
  nnodes: number;
  node: string;
  address: string;
  port: number;
  gpuIds: number[];
  command: BuiltCommand;
}

export function serverCommand(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance, nodeRank: number): BuiltCommand {
  return engineOf(d.engine).serverCommand(d, g, inst, nodeRank);
}

/** Every server rank (groups in spec order: unified | prefill, decode), then the router. */
export function layoutProcesses(d: ResolvedDeployment): { servers: LaidOutProcess[]; router?: LaidOutProcess } {
  const servers: LaidOutProcess[] = [];
  for (const g of d.groups) {
    for (const inst of g.instances) {
      inst.nodes.forEach((node, nodeRank) => {
        servers.push({
          id: `${inst.id}/rank-${nodeRank}`,
          role: g.role,
          group: g,
          instance: inst,
          nodeRank,
          nnodes: inst.nodes.length,
          node,
          address: d.addressOf(node),
          port: g.ports.server,
          gpuIds: Array.from({ length: g.gpusUsedPerNode }, (_, i) => g.baseGpuId + i),
          command: serverCommand(d, g, inst, nodeRank),
        });
      });
    }
  }
  const router: LaidOutProcess | undefined = d.router.enabled
    ? {
        id: 'router',
        role: 'router',
        nodeRank: 0,
        nnodes: 1,
        node: d.router.node,
        address: d.addressOf(d.router.node),
        port: d.router.port,
        gpuIds: [],
        command: engineOf(d.engine).routerCommand(d),
      }
    : undefined;
  return { servers, router };
}


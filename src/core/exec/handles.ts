import type { EngineKind } from '../engines/catalog';
/**
 * What a deploy cell registers under its name in Session.deployments, so bench, monitor and
 * report cells can use a deployment without knowing how it was launched.
 */
export interface DeploymentHandle {
  readonly name: string;
  /** the cluster it runs on */
  readonly clusterName: string;
  readonly engine: EngineKind;
  /** true when the servers are the embedded emulator: every result is labelled simulated */
  readonly simulated: boolean;
  /** base URL reachable from this machine (router when there is one), e.g. http://127.0.0.1:30000 */
  endpoint(): Promise<string>;
  /** every server (role/rank) with its node and a base URL reachable from this machine */
  servers(): Promise<{ role: 'unified' | 'prefill' | 'decode' | 'router'; node: string; url: string }[]>;
  /** exact commands that were launched, for run provenance */
  readonly commands: { node: string; argv: string[]; env: Record<string, string> }[];
}

import type { FaultOptions } from '../faults';

/**
 * Environment the sim cluster gives every process on an emulated node. The launch drop-ins
 * read it to bind the node's own loopback address and to find the telemetry directory.
 */
export interface SimNodeEnv {
  /** MOEBENCH_SIM_NODE_ADDRESS: this node's loopback address (0.0.0.0 binds go here) */
  nodeAddress: string | null;
  /** NODE_NAME */
  nodeName: string | null;
  /** MOEBENCH_SIM_STATE_DIR */
  stateDir: string | null;
  seed: number;
  zeroCost: boolean;
  timeScale: number;
  startupMs: number;
  faults: FaultOptions | undefined;
}

export function readSimNodeEnv(env: NodeJS.ProcessEnv): SimNodeEnv {
  let faults: FaultOptions | undefined;
  if (env.MOEBENCH_SIM_FAULTS) {
    try {
      faults = JSON.parse(env.MOEBENCH_SIM_FAULTS) as FaultOptions;
    } catch {
      faults = undefined;
    }
  }
  const n = (v: string | undefined, d: number): number => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
  return {
    nodeAddress: env.MOEBENCH_SIM_NODE_ADDRESS || null,
    nodeName: env.NODE_NAME || null,
    stateDir: env.MOEBENCH_SIM_STATE_DIR || null,
    seed: n(env.MOEBENCH_SIM_SEED, 1),
    zeroCost: env.MOEBENCH_SIM_ZERO_COST === '1' || env.MOEBENCH_SIM_ZERO_COST === 'true',
    timeScale: n(env.MOEBENCH_SIM_TIME_SCALE, 1),
    startupMs: n(env.MOEBENCH_SIM_STARTUP_MS, 300),
    faults,
  };
}

/**
 * Emulated processes never bind a wildcard address: 0.0.0.0 / :: become the node's loopback
 * address. So does 127.0.0.1 (SGLang's default host): each real node has its own, while emulated
 * nodes share this machine's, so "this node's localhost" is the node address.
 */
export function bindAddress(host: string, env: SimNodeEnv): string {
  if (host === '0.0.0.0' || host === '::' || host === '' || host === 'localhost' || host === '127.0.0.1') return env.nodeAddress ?? '127.0.0.1';
  return host;
}

import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import type { CellEvent } from '../../../src/core/exec/events';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import { Session } from '../../../src/core/exec/session';
import { appendTelemetry, readRunMeta } from '../../../src/core/results';
import { startSimServer, type SimServer } from '../../../src/core/sim';

export const FIXTURES = path.join(__dirname, '../../fixtures/importers');

/** A notebook folder with the emulator behind two "deployments" (tp 8 and tp 4 per launch command). */
export class ReportLab {
  sim!: SimServer;
  dir!: string;
  session!: Session;

  async start(): Promise<void> {
    // modelled decode time (scaled down) so TPOT, and with it tokens/s per user, is not zero
    this.sim = await startSimServer({ seed: 3, port: 0, timeScale: 0.05 });
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-report-'));
    this.session = new Session({ notebookPath: path.join(this.dir, 'nb.moebench'), toolVersion: '0.0.0-test' });
    this.session.deployments.set('sim-tp8', this.deployment('sim-tp8', 8), 'deploy');
    this.session.deployments.set('sim-tp4', this.deployment('sim-tp4', 4), 'deploy');
  }

  async stop(): Promise<void> {
    await this.sim.close();
    await this.session.dispose();
    await rm(this.dir, { recursive: true, force: true });
  }

  private deployment(name: string, tp: number): DeploymentHandle {
    const url = this.sim.url;
    return {
      name,
      clusterName: 'sim',
      engine: 'sglang',
      simulated: true,
      endpoint: async () => url,
      servers: async () => [{ role: 'unified', node: 'node1', url }],
      commands: [{ node: 'node1', argv: ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/m', '--tp', String(tp)], env: {} }],
    };
  }

  context(name: string, language: string): { ctx: CellContext; events: CellEvent[] } {
    const events: CellEvent[] = [];
    return { ctx: { session: this.session, cell: { index: 0, name, language }, emit: (e) => events.push(e), signal: new AbortController().signal, host: headlessHost() }, events };
  }

  /** run a real bench cell (a concurrency sweep) against the emulator; returns its run ids */
  async bench(name: string, target: string, concurrencies: number[]): Promise<string[]> {
    const source = [`name: ${name}`, `target: ${target}`, 'workload: { dataset: random, inputLen: 32, outputLen: 16, rangeRatio: 1, numPrompts: 12, seed: 1 }', `load: { maxConcurrency: [${concurrencies.join(', ')}] }`].join('\n');
    const { ctx } = this.context(name, 'moebench-bench');
    await new BenchCellExecutor().execute(source, ctx);
    return this.session.runs.get(name).runIds;
  }

  /** GPU power samples (2 nodes' worth of 4 GPUs at `watts`) over a run's window, as the telemetry module writes them */
  async addPower(runId: string, watts: number): Promise<void> {
    const runDir = path.join(this.session.runStoreDir, runId);
    const meta = await readRunMeta(runDir);
    const t0 = Date.parse(meta.createdAt);
    const records = [];
    records.push({ kind: 'phase' as const, tsMs: t0, phase: 'run' as const, edge: 'start' as const });
    for (let i = 0; i <= 10; i++) records.push({ kind: 'gpu' as const, tsMs: t0 + i * 1000, node: 'node1', gpus: [0, 1, 2, 3].map((index) => ({ index, powerW: watts })) });
    records.push({ kind: 'phase' as const, tsMs: t0 + 10_000, phase: 'run' as const, edge: 'end' as const });
    await appendTelemetry(runDir, records);
  }
}

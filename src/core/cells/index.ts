import type { CellExecutor } from '../exec/cell';
import type { CellLanguage } from '../spec/cell-kinds';
import { ClusterCellExecutor } from './cluster';
import { ShellCellExecutor } from './shell';
import { DeployCellExecutor } from './deploy';
import { BenchCellExecutor } from './bench';
import { ReportCellExecutor } from './report';
import { MonitorCellExecutor } from './monitor';

/** One executor per cell kind of spec/cell-kinds.ts; the type makes a kind without an executor a compile error. */
const EXECUTORS: Record<CellLanguage, () => CellExecutor> = {
  'moebench-cluster': () => new ClusterCellExecutor(),
  'moebench-deploy': () => new DeployCellExecutor(),
  'moebench-bench': () => new BenchCellExecutor(),
  'moebench-monitor': () => new MonitorCellExecutor(),
  'moebench-report': () => new ReportCellExecutor(),
  shellscript: () => new ShellCellExecutor(),
};

/** language id -> executor */
export function defaultExecutors(): Map<string, CellExecutor> {
  return new Map(Object.entries(EXECUTORS).map(([language, make]) => [language, make()]));
}

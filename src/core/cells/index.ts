import type { CellExecutor } from './types';
import { ClusterCellExecutor } from './cluster';
import { ShellCellExecutor } from './shell';
import { DeployCellExecutor } from './deploy';
import { BenchCellExecutor } from './bench';
import { ReportCellExecutor } from './report';
import { MonitorCellExecutor } from './monitor';

/** language id -> executor. One module per cell kind; this is the only list. */
export function defaultExecutors(): Map<string, CellExecutor> {
  const all: CellExecutor[] = [new ClusterCellExecutor(), new ShellCellExecutor(), new DeployCellExecutor(), new BenchCellExecutor(), new ReportCellExecutor(), new MonitorCellExecutor()];
  return new Map(all.map((e) => [e.language, e]));
}

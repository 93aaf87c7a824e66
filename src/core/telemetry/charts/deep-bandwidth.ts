import type { PlotBlock } from '../../output/doc';
import { DeepTelemetryState } from '../deep/state';
import { heatRows, line, sumColumns, withPhases, type DeepChartOptions } from './deep-common';

/**
 * NVLink bandwidth, GPU × time (TX + RX per GPU, GB/s): the intra-node half of the expert
 * all-to-all. From DCGM (NVLTX/NVLRX) or nvidia-smi's NVLink data counters.
 */
export function nvlinkHeatmapPlot(state: DeepTelemetryState, id: string, o: DeepChartOptions = {}): PlotBlock | undefined {
  const rows = DeepTelemetryState.sorted(state.gpus).filter(([, c]) => c.values.nvlinkTxGBps.some(Number.isFinite) || c.values.nvlinkRxGBps.some(Number.isFinite));
  if (rows.length === 0) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const endMs = range?.endMs ?? t0;
  const { x, z } = heatRows(rows.map(([, c]) => ({ tMs: c.tMs, ys: sumColumns(c.values.nvlinkTxGBps, c.values.nvlinkRxGBps) })), t0, endMs, o.timeBuckets ?? 120);
  const data = [{ type: 'heatmap', x, y: rows.map(([k]) => k), z, colorscale: 'YlOrRd', reversescale: true, zmin: 0, colorbar: { title: { text: 'GB/s' } }, hovertemplate: '%{y} at %{x:.0f} s: %{z} GB/s<extra></extra>' }];
  const layout = { xaxis: { title: { text: 'elapsed (s)' } }, yaxis: { autorange: 'reversed', tickfont: { size: rows.length > 32 ? 7 : 10 } }, margin: { t: 24, r: 8 } };
  return { type: 'plot', id, title: `NVLink TX+RX per GPU (GB/s)${o.epSize ? ` — EP${o.epSize}` : ''}`, data, layout: withPhases(layout, o.phases, t0, endMs), heightPx: o.heightPx ?? Math.min(900, 140 + 12 * rows.length) };
}

/** InfiniBand/RoCE bandwidth, NIC × time (TX + RX, Gbit/s); each NIC labelled with its nearest GPUs. */
export function nicHeatmapPlot(state: DeepTelemetryState, id: string, o: DeepChartOptions = {}): PlotBlock | undefined {
  const rows = DeepTelemetryState.sorted(state.nics);
  if (rows.length === 0) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const endMs = range?.endMs ?? t0;
  const { x, z } = heatRows(rows.map(([, c]) => ({ tMs: c.tMs, ys: sumColumns(c.values.txGbps, c.values.rxGbps) })), t0, endMs, o.timeBuckets ?? 120);
  const labels = rows.map(([k]) => {
    const gpus = state.nicGpus.get(k);
    return gpus && gpus.length > 0 ? `${k} (${gpus.join(',')})` : k;
  });
  const data = [{ type: 'heatmap', x, y: labels, z, colorscale: 'YlOrRd', reversescale: true, zmin: 0, colorbar: { title: { text: 'Gbit/s' } }, hovertemplate: '%{y} at %{x:.0f} s: %{z} Gbit/s<extra></extra>' }];
  const layout = { xaxis: { title: { text: 'elapsed (s)' } }, yaxis: { autorange: 'reversed', tickfont: { size: rows.length > 32 ? 7 : 10 } }, margin: { t: 24, r: 8 } };
  return { type: 'plot', id, title: `NIC TX+RX (Gbit/s) — NIC × time${o.epSize ? ` — EP${o.epSize}` : ''}`, data, layout: withPhases(layout, o.phases, t0, endMs), heightPx: o.heightPx ?? Math.min(900, 140 + 12 * rows.length) };
}

/** Per node: NIC TX and RX summed over its ports (Gbit/s), with the run's phases. */
export function nicNodePlot(state: DeepTelemetryState, id: string, o: DeepChartOptions = {}): PlotBlock | undefined {
  const nodes = DeepTelemetryState.sorted(state.nodesNic);
  if (nodes.length === 0) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const maxPoints = o.maxPointsPerSeries ?? 600;
  const data: Record<string, unknown>[] = [];
  for (const [node, c] of nodes) {
    const tx = line(c.tMs, c.values.txGbps, t0, maxPoints);
    const rx = line(c.tMs, c.values.rxGbps, t0, maxPoints);
    data.push({ type: 'scattergl', mode: 'lines', name: `${node} TX`, legendgroup: node, x: tx.x, y: tx.y, line: { width: 1.3 } });
    data.push({ type: 'scattergl', mode: 'lines', name: `${node} RX`, legendgroup: node, x: rx.x, y: rx.y, line: { width: 1.3, dash: 'dot' } });
  }
  const layout = { xaxis: { title: { text: 'elapsed (s)' } }, yaxis: { title: { text: 'Gbit/s' }, rangemode: 'tozero' }, legend: { orientation: 'h' }, margin: { t: 24, r: 8 } };
  return { type: 'plot', id, title: `Network per node (Gbit/s)${o.epSize ? ` — EP${o.epSize}` : ''}`, data, layout: withPhases(layout, o.phases, t0, range?.endMs), heightPx: o.heightPx ?? 360 };
}

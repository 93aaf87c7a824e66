import type { PlotBlock } from '../../output/doc';
import type { ExpertSnapshot } from '../schema';

/**
 * Layer × expert heatmap of routed load, each cell the expert's share of its layer's load
 * relative to an even split (1.0 = average, 3.0 = three times its fair share): layers with
 * different token counts stay comparable and hot experts stand out.
 */
export function expertHeatmapPlot(snapshot: ExpertSnapshot, id: string): PlotBlock {
  const z = snapshot.logicalCount.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    const fair = total / Math.max(1, row.length);
    return row.map((v) => (fair > 0 ? Math.round((v / fair) * 100) / 100 : 0));
  });
  return {
    type: 'plot',
    id,
    title: `Expert load — ${snapshot.label} (×fair share)`,
    data: [
      {
        type: 'heatmap',
        z,
        x: Array.from({ length: snapshot.numLogicalExperts }, (_, i) => i),
        y: Array.from({ length: snapshot.numLayers }, (_, i) => i),
        colorscale: 'Hot',
        reversescale: true,
        zmin: 0,
        colorbar: { title: { text: '×fair' } },
        hovertemplate: 'layer %{y}, expert %{x}: %{z}× fair share<extra></extra>',
      },
    ],
    layout: { xaxis: { title: { text: 'logical expert' } }, yaxis: { title: { text: 'MoE layer' }, autorange: 'reversed' }, margin: { t: 24, r: 8 } },
    heightPx: Math.min(900, 160 + 8 * snapshot.numLayers),
  };
}

/** Per-GPU load per layer (EP ranks on x), the view that explains a low balancedness. */
export function expertGpuLoadPlot(snapshot: ExpertSnapshot, id: string): PlotBlock {
  const z = snapshot.gpuLoad.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / Math.max(1, row.length);
    return row.map((v) => (mean > 0 ? Math.round((v / mean) * 100) / 100 : 0));
  });
  return {
    type: 'plot',
    id,
    title: `Load per EP rank — ${snapshot.label} (×mean)`,
    data: [{ type: 'heatmap', z, colorscale: 'RdBu', reversescale: true, zmid: 1, hovertemplate: 'layer %{y}, GPU %{x}: %{z}× mean<extra></extra>' }],
    layout: { xaxis: { title: { text: 'EP rank (GPU)' } }, yaxis: { title: { text: 'MoE layer' }, autorange: 'reversed' }, margin: { t: 24, r: 8 } },
    heightPx: Math.min(900, 160 + 8 * snapshot.numLayers),
  };
}

/**
 * Balancedness per layer for one or more snapshots (e.g. before and after EPLB), with each
 * snapshot's mean as a dashed line. 1.0 = even; 1/EP = one GPU does all the work.
 */
export function balancednessPlot(snapshots: readonly ExpertSnapshot[], id: string): PlotBlock {
  const data: Record<string, unknown>[] = [];
  for (const s of snapshots) {
    const layers = s.balancednessPerLayer.map((_, i) => i);
    data.push({ type: 'scatter', mode: 'lines+markers', name: `${s.label} (mean ${s.balancednessMean.toFixed(3)})`, legendgroup: s.label, x: layers, y: s.balancednessPerLayer, marker: { size: 4 } });
    data.push({ type: 'scatter', mode: 'lines', name: `${s.label} mean`, legendgroup: s.label, showlegend: false, x: [0, Math.max(0, layers.length - 1)], y: [s.balancednessMean, s.balancednessMean], line: { dash: 'dash', width: 1 } });
  }
  const ep = snapshots[0]?.epSize ?? 1;
  return {
    type: 'plot',
    id,
    title: 'Expert balancedness per layer (mean/max GPU load)',
    data,
    layout: {
      xaxis: { title: { text: 'MoE layer' } },
      yaxis: { title: { text: 'balancedness' }, range: [Math.min(1 / ep, ...snapshots.flatMap((s) => s.balancednessPerLayer)) * 0.95, 1.02] },
      legend: { orientation: 'h' },
      margin: { t: 24, r: 8 },
    },
    heightPx: 340,
  };
}

import type { PhaseMarker } from '../schema';

/**
 * Shaded bands for phases (warmup grey, sweep steps alternating) with a label at the top, in
 * elapsed seconds from `t0Ms`. Used as `layout.shapes` / `layout.annotations` of time charts.
 */
export function phaseBands(markers: readonly PhaseMarker[], t0Ms: number, endMs?: number): { shapes: Record<string, unknown>[]; annotations: Record<string, unknown>[] } {
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const open = new Map<string, PhaseMarker>();
  const close = (start: PhaseMarker, endTs: number) => {
    const x0 = (start.tsMs - t0Ms) / 1000;
    const x1 = (endTs - t0Ms) / 1000;
    const stepShade = (start.step ?? 0) % 2 === 0 ? 'rgba(99,110,250,0.07)' : 'rgba(99,110,250,0.14)';
    shapes.push({
      type: 'rect',
      xref: 'x',
      yref: 'paper',
      x0,
      x1,
      y0: 0,
      y1: 1,
      line: { width: 0 },
      layer: 'below',
      fillcolor: start.phase === 'warmup' ? 'rgba(128,128,128,0.15)' : stepShade,
    });
    const text = start.label ?? (start.phase === 'step' ? `step ${(start.step ?? 0) + 1}` : start.phase);
    annotations.push({ x: (x0 + x1) / 2, y: 1, xref: 'x', yref: 'paper', yanchor: 'bottom', text, showarrow: false, font: { size: 10 } });
  };
  for (const m of markers) {
    // the measured window sits inside its step's band: a second band would only add clutter
    if (m.phase === 'run' || m.phase === 'measured') continue;
    const key = `${m.phase}:${m.step ?? ''}`;
    if (m.edge === 'start') open.set(key, m);
    else {
      const start = open.get(key);
      if (start) {
        close(start, m.tsMs);
        open.delete(key);
      }
    }
  }
  // a phase still running is drawn up to now
  if (endMs !== undefined) for (const start of open.values()) close(start, endMs);
  return { shapes, annotations };
}

import type { Badge, BadgeLevel } from '../output/doc';
import { SOURCE_NAMES } from '../results/importers';
import type { ReportModel, ReportRow } from './types';

const RANK: Record<BadgeLevel, number> = { ok: 0, info: 1, warn: 2, error: 3 };

export interface RowValidity {
  level: BadgeLevel;
  /** short problems, e.g. "client saturated (1 of 3 repeats)" */
  problems: string[];
  details: string[];
}

/** Validity carried over from the runs: the worst check of any repeat, cancelled runs flagged. */
export function rowValidity(row: ReportRow): RowValidity {
  let level: BadgeLevel = 'ok';
  const byText = new Map<string, { count: number; detail: string; level: BadgeLevel }>();
  for (const run of row.runs) {
    for (const c of run.validity) {
      if (c.level !== 'warn' && c.level !== 'error') continue;
      const e = byText.get(c.text) ?? { count: 0, detail: c.detail, level: c.level };
      e.count++;
      if (RANK[c.level] > RANK[e.level]) e.level = c.level;
      byText.set(c.text, e);
      if (RANK[c.level] > RANK[level]) level = c.level;
    }
    if (run.status === 'cancelled') {
      const e = byText.get('cancelled') ?? { count: 0, detail: 'the run was stopped before all requests finished', level: 'warn' as BadgeLevel };
      e.count++;
      byText.set('cancelled', e);
      if (RANK.warn > RANK[level]) level = 'warn';
    }
  }
  const n = row.runs.length;
  const problems = [...byText.entries()].map(([text, e]) => (n > 1 && e.count < n ? `${text} (${e.count} of ${n} repeats)` : text));
  return { level, problems, details: [...byText.entries()].map(([text, e]) => `${text}: ${e.detail}`) };
}

export function validityText(v: RowValidity): string {
  if (v.level === 'ok') return 'ok';
  return `${v.level === 'error' ? '✖' : '⚠'} ${v.problems.join('; ')}`;
}

export function sourceText(row: ReportRow): string {
  const sources = [...new Set(row.runs.map((r) => (r.source === 'moebench' ? (r.simulated ? 'MoE Bench (simulated)' : 'MoE Bench') : SOURCE_NAMES[r.source])))];
  return sources.join(', ');
}

/** The report's badges: invalid rows, a flagged baseline, mixed metric definitions, simulation. */
export function reportBadges(model: ReportModel): Badge[] {
  const badges: Badge[] = [];
  const validity = new Map(model.rows.map((r) => [r.key, rowValidity(r)]));
  for (const row of model.rows) {
    const v = validity.get(row.key);
    if (!v || v.level === 'ok') continue;
    badges.push({ level: v.level, text: `${row.label}: ${v.problems.join('; ')}`, detail: v.details.join('\n') });
  }
  if (model.baseline) {
    const flagged = [...model.baseline.rowKeys].filter((k) => validity.get(k)?.level === 'error');
    if (flagged.length > 0) badges.push({ level: 'warn', text: 'baseline flagged', detail: `Deltas are measured against ${flagged.join(', ')}, which failed a validity check; treat the comparison with care.` });
  }
  const definitions = new Set(model.rows.flatMap((r) => r.runs.map((x) => x.summary.definition)));
  const sources = new Set(model.rows.flatMap((r) => r.runs.map((x) => x.source)));
  if (definitions.size > 1 || sources.size > 1) {
    const names = [...sources].map((s) => (s === 'moebench' ? 'MoE Bench' : SOURCE_NAMES[s]));
    badges.push({
      level: 'info',
      text: `mixed sources: ${names.join(', ')}`,
      detail: `Runs come from different tools or metric definitions (${[...definitions].join(', ')}); small differences can be definitions, not performance. See "Metric definitions" below.`,
    });
  }
  const simulated = model.rows.filter((r) => r.runs.some((x) => x.simulated));
  if (simulated.length > 0) badges.push({ level: 'info', text: `simulated: ${simulated.length} of ${model.rows.length} rows`, detail: `Produced by the emulator, not real GPUs: ${simulated.map((r) => r.label).join(', ')}` });
  if (model.skipped.length > 0) badges.push({ level: 'info', text: `${model.skipped.length} run(s) left out`, detail: model.skipped.map((s) => `${s.what}: ${s.reason}`).join('\n') });
  if (badges.every((b) => b.level === 'info')) badges.unshift({ level: 'ok', text: `${model.rows.reduce((a, r) => a + r.runs.length, 0)} runs valid` });
  return badges.sort((a, b) => RANK[b.level] - RANK[a.level]);
}

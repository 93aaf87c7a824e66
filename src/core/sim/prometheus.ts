/**
 * A minimal Prometheus registry producing the text exposition format the way Python's
 * prometheus_client writes it in multiprocess mode (what SGLang uses): counters are declared
 * without `_total` in HELP/TYPE and sampled with it, numbers print as floats ("3.0"), histogram
 * buckets carry `le` with "+Inf", and no `_created` samples.
 */

export type Labels = Readonly<Record<string, string>>;

function formatNumber(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels).map((k) => `${k}="${escapeLabel(labels[k])}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function key(labels: Labels): string {
  return JSON.stringify(labels);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  abstract render(): string;
}

export class Gauge extends Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  set(labels: Labels, value: number): void {
    const k = key(labels);
    const s = this.series.get(k);
    if (s) s.value = value;
    else this.series.set(k, { labels, value });
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const s of this.series.values()) out += `${this.name}${labelText(s.labels)} ${formatNumber(s.value)}\n`;
    return out;
  }
}

export class Counter extends Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  /** `name` without the `_total` suffix, as prometheus_client declares counters */
  inc(labels: Labels, by = 1): void {
    const k = key(labels);
    const s = this.series.get(k);
    if (s) s.value += by;
    else this.series.set(k, { labels, value: by });
  }
  /** make the series appear with 0 before its first increment */
  touch(labels: Labels): void {
    this.inc(labels, 0);
  }
  value(labels: Labels): number {
    return this.series.get(key(labels))?.value ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const s of this.series.values()) out += `${this.name}_total${labelText(s.labels)} ${formatNumber(s.value)}\n`;
    return out;
  }
}

interface HistogramSeries {
  labels: Labels;
  counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help);
  }
  private get(labels: Labels): HistogramSeries {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    return s;
  }
  touch(labels: Labels): void {
    this.get(labels);
  }
  /** observe `value` `times` times, adding `sumBy` to the sum (SGLang's ITL rule: sum += interval) */
  observe(labels: Labels, value: number, times = 1, sumBy = value * times): void {
    const s = this.get(labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    s.counts[i] += times;
    s.count += times;
    s.sum += sumBy;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i];
        const le = i < this.buckets.length ? formatNumber(this.buckets[i]) : '+Inf';
        out += `${this.name}_bucket${labelText(s.labels, ['le', le])} ${formatNumber(cumulative)}\n`;
      }
      out += `${this.name}_count${labelText(s.labels)} ${formatNumber(s.count)}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}\n`;
    }
    return out;
  }
}

export class Summary extends Metric {
  private readonly series = new Map<string, { labels: Labels; sum: number; count: number }>();
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    const s = this.series.get(k);
    if (s) {
      s.sum += value;
      s.count += 1;
    } else this.series.set(k, { labels, sum: value, count: 1 });
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} summary\n`;
    for (const s of this.series.values()) {
      out += `${this.name}_count${labelText(s.labels)} ${formatNumber(s.count)}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<T extends Metric>(m: T): T {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

/**
 * Counters and histograms written in the Prometheus text exposition format (version 0.0.4), with nothing else: the
 * server needs a handful of series, not a client library. Label values are escaped as the format requires
 * (backslash, double quote, line feed); callers keep label values bounded (route patterns, never raw paths).
 *
 * @module
 */

/** The media type of a scrape. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

/** A label value as the format spells it inside double quotes. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A number as the format writes it (`+Inf`, `-Inf`, `NaN`, else JavaScript's shortest form). */
function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** A family of counters (or gauges) by label values. */
export class Counter {
  private readonly series = new Map<string, { values: string[]; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    readonly type: 'counter' | 'gauge' = 'counter',
  ) {}

  /** Adds `by` (default 1) to the series of `values` (in `labelNames` order). */
  inc(values: readonly string[] = [], by = 1): void {
    const key = values.join('\u0000');
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { values: [...values], value: by });
  }

  /** Sets a gauge's series. */
  set(values: readonly string[], value: number): void {
    const key = values.join('\u0000');
    const s = this.series.get(key);
    if (s) s.value = value;
    else this.series.set(key, { values: [...values], value });
  }

  /** The value of one series (0 when never touched). */
  get(values: readonly string[] = []): number {
    return this.series.get(values.join('\u0000'))?.value ?? 0;
  }

  render(): string {
    let out = header(this.name, this.help, this.type);
    for (const s of this.series.values()) out += `${this.name}${labelText(this.labelNames, s.values)} ${num(s.value)}\n`;
    return out;
  }
}

/** A family of histograms by label values, with fixed upper bounds (seconds for durations). */
export class Histogram {
  private readonly series = new Map<string, { values: string[]; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  observe(values: readonly string[], value: number): void {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values: [...values], counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    // Each observation lands in its first bucket; the rendering makes them cumulative.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        out += `${this.name}_bucket${labelText(this.labelNames, s.values, ['le', num(b)])} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${labelText(this.labelNames, s.values, ['le', '+Inf'])} ${s.count}\n`;
      out += `${this.name}_sum${labelText(this.labelNames, s.values)} ${num(s.sum)}\n`;
      out += `${this.name}_count${labelText(this.labelNames, s.values)} ${s.count}\n`;
    }
    return out;
  }
}

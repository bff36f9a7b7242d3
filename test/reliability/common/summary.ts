/**
 * What every reliability suite hands back: the seed that reproduces it, how many cases ran, the failures by class
 * (each with enough of the case to replay it by hand) and the figures it measured. The CLI prints it; the vitest
 * wrappers assert that `failures` is empty and print the seed when it is not.
 *
 * @module
 */

export interface Failure {
  /** A short stable name of what broke (`status_500`, `untyped_error`, `lost_event`…). */
  class: string;
  /** Which surface, route or operation. */
  where: string;
  /** What was seen, with the input that caused it (clipped). */
  detail: string;
}

export interface Summary {
  suite: string;
  seed: number;
  cases: number;
  failures: Failure[];
  figures: Record<string, number | string>;
}

/** Keeps every failure's class count but at most `keep` examples of each class, so a bad run stays readable. */
export class Failures {
  readonly list: Failure[] = [];
  readonly counts = new Map<string, number>();
  constructor(private readonly keep = 5) {}

  add(cls: string, where: string, detail: string): void {
    const n = (this.counts.get(cls) ?? 0) + 1;
    this.counts.set(cls, n);
    if (n <= this.keep) this.list.push({ class: cls, where, detail: clip(detail, 600) });
  }

  /** Adds the failures another `Failures` collected (in a worker thread): its examples, then its counts. */
  merge(other: { list: readonly Failure[]; counts: Record<string, number> }): void {
    for (const [cls, n] of Object.entries(other.counts)) {
      const examples = other.list.filter((f) => f.class === cls);
      for (const f of examples) this.add(f.class, f.where, f.detail);
      for (let k = examples.length; k < n; k++) this.counts.set(cls, (this.counts.get(cls) ?? 0) + 1);
    }
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  byClass(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }
}

export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** The human form of a summary: one line of counts, the figures, then each kept failure. */
export function render(summary: Summary, counts: Record<string, number>): string {
  const lines = [
    `${summary.suite}: seed ${summary.seed}, ${summary.cases} case(s), ${Object.values(counts).reduce((a, b) => a + b, 0)} failure(s)`,
  ];
  for (const [k, v] of Object.entries(summary.figures)) lines.push(`  ${k}: ${v}`);
  if (Object.keys(counts).length > 0) lines.push(`  failures by class: ${JSON.stringify(counts)}`);
  for (const f of summary.failures) lines.push(`  FAIL ${f.class} @ ${f.where}: ${f.detail}`);
  return lines.join('\n');
}

/** The message a vitest wrapper fails with: the summary and the command that replays the run. */
export function reproduce(summary: Summary, counts: Record<string, number>, command: string): string {
  return `${render(summary, counts)}\nreproduce: npm run ${summary.suite} -- --seed ${summary.seed} ${command}`;
}

/**
 * `docs/observability.md` says what the SDK records: its registration example runs as written (saved at the
 * repository root with the package's specifiers pointed at the sources, run with tsx, as the README's blocks are) and prints the spans and metric it promises, and its
 * tables name every span, attribute and instrument of `names.ts`, and no other.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { forCheckout } from '../../../test/support/snippets.ts';
import { ATTR, METRIC_NAMES, SPAN_NAMES } from './names.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);
const doc = () => readFile(join(ROOT, 'docs', 'observability.md'), 'utf8');

/** The doc's text between `## SDK: OpenTelemetry` and the next `## ` heading. */
async function sdkSection(): Promise<string> {
  return ((await doc()).split('\n## SDK: OpenTelemetry\n')[1] ?? '').split('\n## ')[0]!;
}

describe('docs/observability.md', () => {
  it('the Node registration example runs as written and prints the resolve and denied request spans and the decision count', async () => {
    const section = (await sdkSection()).split('\n### Registering an OpenTelemetry SDK (Node)\n')[1] ?? '';
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    if (!block) throw new Error('docs/observability.md has no ts block under "### Registering an OpenTelemetry SDK (Node)"');
    const file = join(ROOT, `.observability-${randomUUID()}.ts`);
    await writeFile(file, forCheckout(block));
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      expect(stdout).toContain("name: 'cra.resolve'");
      expect(stdout).toContain("name: 'cra.action.request'");
      expect(stdout).toMatch(/'cra\.execution\.status': 'denied'/);
      expect(stdout).toMatch(/'cra\.policy\.id': 'no-customer-delete'/);
      // The metric exporter's print of the decision counter: one denied request of customer.delete.
      const decisions = stdout.split("name: 'cra.decisions'")[1]?.split('descriptor:')[0] ?? '';
      expect(decisions).toMatch(/'cra\.execution\.status': 'denied',\s+'cra\.action\.id': 'customer\.delete'\s+\},[^}]*value: 1\s/);
    } finally {
      await rm(file, { force: true });
    }
  }, 90_000);

  it('names every span, attribute and instrument the SDK records, and none it does not', async () => {
    const text = await sdkSection();
    const named = new Set([...text.matchAll(/`((?:cra|error)\.[a-z_.]+)`/g)].map((m) => m[1]!));
    const recorded = new Set<string>([...Object.values(SPAN_NAMES), ...Object.values(ATTR), ...Object.values(METRIC_NAMES)]);
    expect([...recorded].filter((n) => !named.has(n))).toEqual([]);
    // `cra.action.*` names the span family; every other name must be one recorded.
    expect([...named].filter((n) => !recorded.has(n) && n !== 'cra.action.*')).toEqual([]);
  });
});

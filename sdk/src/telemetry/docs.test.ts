/**
 * `docs/observability.md` says what the SDK records: its registration example runs as written (saved at the
 * repository root with the package's specifiers pointed at the sources, run with tsx, as the README's blocks are) and prints the spans and metric it promises, and its
 * tables name every span, attribute and instrument of `names.ts`, and no other.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureDist } from '../../../test/support/dist.ts';
import { start } from '../../../test/support/proc.ts';
import { forCheckout } from '../../../test/support/snippets.ts';
import { ATTR, METRIC_NAMES, SPAN_NAMES } from './names.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);
const KEY = 'otel-docs-key-0123456789';
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
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

  it("the server's registration module, loaded before `cra serve`, makes a request's traceparent the parent of its spans", async () => {
    const section = (await doc()).split('\n### Registering an OpenTelemetry SDK in the server\n')[1] ?? '';
    const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    if (!block) throw new Error('docs/observability.md has no js block under "### Registering an OpenTelemetry SDK in the server"');
    await ensureDist();
    const register = join(ROOT, `.otel-register-${randomUUID()}.mjs`);
    const data = await mkdtemp(join(tmpdir(), 'cra-otel-'));
    await writeFile(register, block);
    const server = await start(process.execPath, ['--import', register, 'dist/cli.js', 'serve', '--port', '0', '--data', data], {
      env: { ...process.env, CRA_API_KEYS: KEY, CRA_LOG_FORMAT: 'off' },
      ready: /listening on (http:\/\/\S+) /,
    });
    try {
      const url = server.match[1]!;
      const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
      const created = (await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers, body: '{"agent_id":"a","goal":"g"}' })).json()) as {
        session_id: string;
      };
      const traceparent = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;
      const resolved = await fetch(`${url}/v1/sessions/${created.session_id}/resolve`, { method: 'POST', headers: { ...headers, traceparent }, body: '{}' });
      expect(resolved.status).toBe(200);
      // The console exporter's print of the resolve span: the caller's trace, the caller's span as its parent.
      const printed = server.output().stdout.split('\n}\n').find((span) => span.includes("name: 'cra.resolve'")) ?? '';
      expect(printed).toContain(`traceId: '${CALLER_TRACE}'`);
      expect(printed).toMatch(new RegExp(`parentSpanContext: \\{\\s+traceId: '${CALLER_TRACE}',\\s+spanId: '${CALLER_SPAN}'`));
    } finally {
      await server.stop('SIGTERM');
      await rm(register, { force: true });
      await rm(data, { recursive: true, force: true });
    }
  }, 200_000);

  it('names every span, attribute and instrument the SDK records, and none it does not', async () => {
    const text = await sdkSection();
    const named = new Set([...text.matchAll(/`((?:cra|error)\.[a-z_.]+)`/g)].map((m) => m[1]!));
    const recorded = new Set<string>([...Object.values(SPAN_NAMES), ...Object.values(ATTR), ...Object.values(METRIC_NAMES)]);
    expect([...recorded].filter((n) => !named.has(n))).toEqual([]);
    // `cra.action.*` names the span family; every other name must be one recorded.
    expect([...named].filter((n) => !recorded.has(n) && n !== 'cra.action.*')).toEqual([]);
  });
});

/**
 * The SDK in both modes: the HTTP client against the real server over loopback (@hono/node-server on a free port)
 * and the embedded runtime. The shared dual-mode suite (`sdk/test/dual-mode.suite.ts`) runs against both, and the
 * same script gives byte-identical traces in both. Here, not under `sdk/`, because it needs the server.
 */

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY_A, KEY_B, startTestServer, testServerClient, type TestServer } from '../../server/src/testing.ts';
import { dualModeSuite, errorCases, scenario, type DualModeFixtures, type RuntimeFactory } from '../../sdk/test/dual-mode.suite.ts';
import { EXAMPLES, readJson, readJsonl, simpleAtlas, T0_US, testClock, testIds } from '../../sdk/test/helpers.ts';
import { loadAtlasDir } from '../../sdk/src/atlas/dir.ts';
import { createClient, type HttpRuntime } from '../../sdk/src/client/client.ts';
import { CraError } from '../../sdk/src/errors.ts';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import { createRuntime } from '../../sdk/src/runtime/runtime.ts';
import type { CarpRequest, Resolution } from '../../sdk/src/types.ts';

const { $comment: _c, ...goldenResolution } = await readJson<Resolution & { $comment?: string }>('simple-resolve/expected-resolution.json');
const fixtures: DualModeFixtures = {
  simple: await simpleAtlas(),
  support: await loadAtlasDir(join(EXAMPLES, 'atlases/support')),
  golden: {
    request: await readJson<CarpRequest>('simple-resolve/request.json'),
    resolution: goldenResolution as Resolution,
    trace: await readJsonl('simple-resolve/expected-trace.jsonl'),
  },
};

const embedded: RuntimeFactory = (options) => createRuntime(options);

/** A client of a fresh server whose runtime gets `options`; closing the client stops the server. */
const overHttp: RuntimeFactory = (options) => testServerClient({ runtime: options });

dualModeSuite('embedded', embedded, fixtures);
dualModeSuite('http', overHttp, fixtures);

describe('embedded and HTTP give the same answers and the same traces', () => {
  it('for the same script, clock and ids', async () => {
    const run = async (make: RuntimeFactory) => {
      const rt = await make({ clock: testClock(T0_US), ids: testIds() });
      try {
        await rt.loadAtlas(fixtures.simple);
        await rt.loadAtlas(fixtures.support);
        const result = await scenario(rt);
        const sessions = await rt.listSessions();
        const verdicts = await Promise.all(result.traces.map((t) => rt.verify(t[0]!.session_id)));
        return { ...result, sessions, verdicts };
      } finally {
        await rt.close();
      }
    };
    const a = await run(embedded);
    const b = await run(overHttp);
    expect(a.traces.map((t) => t.length)).toEqual([17, 7]);
    expect(b).toEqual(a);
    expect(JSON.stringify(b.traces)).toBe(JSON.stringify(a.traces));
  });
});

describe('embedded and HTTP fail alike', () => {
  it('with the same code, status, path and (but for the HTTP layer’s own type checks) message', async () => {
    const run = async (make: RuntimeFactory) => {
      const rt = await make({ clock: testClock(T0_US), ids: testIds() });
      try {
        await rt.loadAtlas(fixtures.simple);
        await rt.loadAtlas(fixtures.support);
        return await errorCases(rt);
      } finally {
        await rt.close();
      }
    };
    const a = await run(embedded);
    const b = await run(overHttp);
    expect(a.filter((x) => x.code === 'none').map((x) => x.label)).toEqual(['check ended']);
    const strip = (list: typeof a) => list.map((x) => (x.label.includes('(zod)') ? { ...x, message: '(checked by the HTTP layer)' } : x));
    expect(strip(b)).toEqual(strip(a));
    expect(b.filter((x) => x.label.includes('(zod)')).map((x) => [x.code, x.path])).toEqual(
      a.filter((x) => x.label.includes('(zod)')).map((x) => [x.code, x.path]),
    );
  });
});

describe('HTTP client', () => {
  const servers: TestServer[] = [];
  const clients: CraRuntime[] = [];
  const serve = async () => {
    const s = await startTestServer();
    servers.push(s);
    await s.runtime.loadAtlas(fixtures.support);
    return s;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.close();
  });
  const client = (url: string, apiKey?: string): HttpRuntime => {
    const c = createClient({ baseUrl: url, ...(apiKey ? { apiKey } : {}) });
    clients.push(c);
    return c;
  };

  it('is the http mode of CraRuntime', async () => {
    const s = await serve();
    expect(client(s.url, KEY_A).mode).toBe('http');
  });

  it('answers auth failures and foreign sessions as CraErrors with the HTTP status', async () => {
    const s = await serve();
    const alice = client(s.url, KEY_A);
    const session = await alice.createSession({ agentId: 'a', goal: 'g' });
    await expect(client(s.url).listSessions()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await expect(client(s.url, 'not-a-configured-key-000').listSessions()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    const bob = client(s.url, KEY_B);
    await expect(bob.getSession(session.id)).rejects.toMatchObject({ code: 'session_not_found', status: 404, path: '/session_id' });
    await expect(bob.trace(session.id)).rejects.toMatchObject({ code: 'session_not_found', status: 404 });
    expect((await bob.listSessions()).items).toEqual([]);
    await expect(bob.loadAtlas(fixtures.simple)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    await expect(bob.stats()).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    const err = await bob.getSession(session.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CraError);
    expect((err as CraError).toJSON()).toEqual({ error: { code: 'session_not_found', message: `unknown session: ${session.id}`, path: '/session_id' } });
  });

  it('streams a session’s events (past, then live) and stops after session.ended', async () => {
    const s = await serve();
    const c = client(s.url, KEY_A);
    const session = await c.createSession({ agentId: 'support-bot', goal: 'Stream' });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of c.events(session.id)) seen.push(`${e.sequence}:${e.event_type}`);
    })();
    await session.resolve({ requiredCapabilities: ['tickets.read'] });
    await session.end('completed');
    await reading;
    const trace = await session.trace();
    expect(seen).toEqual(trace.map((e) => `${e.sequence}:${e.event_type}`));
  });

  it('reports a server that cannot be reached as unavailable (503)', async () => {
    const s = await serve();
    const url = s.url;
    await s.close();
    servers.length = 0;
    await expect(client(url, KEY_A).listAtlases()).rejects.toMatchObject({ code: 'unavailable', status: 503 });
  });

  it('uses an injected fetch', async () => {
    const s = await serve();
    const calls: string[] = [];
    const c = createClient({
      baseUrl: `${s.url}/`,
      apiKey: KEY_A,
      fetch: (input, init) => {
        calls.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    clients.push(c);
    expect((await c.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.example.support']);
    expect(calls).toEqual([`GET ${s.url}/v1/atlases`]);
  });
});

/**
 * Damaged traces in a real data folder, through the Node server as `npm start` runs it: start-up reads the session
 * index, not the traces; every damaged session answers `storage_corrupt` naming the damage over HTTP (session, trace
 * and verify) from its first use, and the intact sessions beside it are served as before.
 */

import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sdk/src/types.ts';
import { childServers } from '../../test/support/children.ts';
import { http, KEY_A } from './testing.ts';

describe('damaged traces over HTTP (child process)', () => {
  const { start, dataDir } = childServers();

  it('answers truncated, missing, missing_events and duplicated_events on every call from the first use; intact sessions are served', async () => {
    const dir = await dataDir();
    const env = { CRA_DATA_DIR: dir, CRA_API_KEYS: KEY_A };
    const first = await start(env);
    const call = (url: string, method: string, path: string, body?: unknown) => http(url, method, path, { key: KEY_A, ...(body === undefined ? {} : { body }) });
    const ids: string[] = [];
    for (const goal of ['truncated', 'missing', 'missing_events', 'duplicated_events', 'intact']) {
      const id = (await call(first.url, 'POST', '/v1/sessions', { agent_id: 'support-bot', goal })).body.session_id as string;
      await call(first.url, 'POST', `/v1/sessions/${id}/resolve`, { required_capabilities: ['tickets.read'] });
      const lookup = (await call(first.url, 'POST', `/v1/sessions/${id}/actions`, { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } })).body;
      await call(first.url, 'POST', `/v1/sessions/${id}/actions/${lookup.execution_id}/complete`, { result: { ok: 1 } });
      ids.push(id);
    }
    const [truncated, missing, gap, dup, intact] = ids as [string, string, string, string, string];
    const intactTrace = (await call(first.url, 'GET', `/v1/traces/${intact}`)).body as TraceEvent[];
    expect(await first.stop('SIGTERM')).toBe(0); // synced on close

    const traces = join(dir, 'traces');
    const path = (id: string) => join(traces, `${id}.trace.jsonl`);
    const lines = async (id: string) => (await readFile(path(id), 'utf8')).trimEnd().split('\n');
    const write = (id: string, l: string[]) => writeFile(path(id), l.map((x) => `${x}\n`).join(''));
    const kept = await lines(truncated);
    expect(kept.length).toBeGreaterThanOrEqual(5);
    await write(truncated, kept.slice(0, -1));
    await unlink(path(missing));
    const g = await lines(gap);
    await write(gap, [...g.slice(0, 2), ...g.slice(3)]);
    const d = await lines(dup);
    await write(dup, [...d.slice(0, 3), d[2]!, ...d.slice(3)]);

    // Start-up reads the session index, no trace: every kind of damage is found when its session is used.
    const second = await start(env);
    expect(second.output()).not.toContain('damaged trace left out');
    expect(second.output()).toContain('5 session(s) indexed');

    for (const [id, kind] of [
      [truncated, 'truncated'],
      [missing, 'missing'],
      [gap, 'missing_events'],
      [dup, 'duplicated_events'],
    ] as const) {
      for (const route of [`/v1/traces/${id}/verify`, `/v1/traces/${id}`, `/v1/sessions/${id}`]) {
        const res = await call(second.url, 'GET', route);
        expect(res.status, route).toBe(500);
        expect(res.body.error.code, route).toBe('storage_corrupt');
        expect(res.body.error.message, route).toContain(`(${kind})`);
      }
    }
    expect((await call(second.url, 'GET', `/v1/traces/${intact}/verify`)).body).toEqual({
      valid: true,
      length: intactTrace.length,
      head_hash: intactTrace.at(-1)!.event_hash,
    });
    expect((await call(second.url, 'GET', `/v1/traces/${intact}`)).body).toEqual(intactTrace);
  });
});

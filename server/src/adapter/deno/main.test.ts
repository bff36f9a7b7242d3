/**
 * The server on Deno (`server/src/adapter/deno/main.ts`, `Deno.serve`), started as a child process with the `deno`
 * binary of the dev dependencies on a free port (port 0), offline: real HTTP requests through the whole API, a
 * graceful stop, the durable JSONL trace on disk, and a restart that restores the session.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonl, verifyTrace } from '../../../../sdk/src/runtime/tools.ts';
import { denoBinary, denoEnv } from '../../../../test/support/deno.ts';
import { FLOW_TYPES, httpFlow, type FlowResult } from '../../../../test/support/http-flow.ts';
import { start, type Started } from '../../../../test/support/proc.ts';

const KEY = 'test-key-deno-alice-0123456789';
const OTHER = 'test-key-deno-bob-0123456789ab';
const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('server on Deno (Deno.serve)', () => {
  let dataDir: string;
  const running = new Set<Started>();

  /** `deno run server/src/adapter/deno/main.ts` with the least permissions it needs; answers the process and its URL. */
  async function serve(): Promise<{ proc: Started; url: string }> {
    const proc = await start(
      denoBinary(),
      ['run', '--no-prompt', '--allow-net=127.0.0.1', '--allow-read', `--allow-write=${dataDir}`, '--allow-env', ENTRY],
      {
        env: denoEnv({ CRA_PORT: '0', CRA_HOST: '127.0.0.1', CRA_DATA_DIR: dataDir, CRA_API_KEYS: `${KEY},${OTHER}` }),
        ready: /^CRA server \(Deno\) listening on (http:\/\/\S+) /m,
        timeoutMs: 30_000,
      },
    );
    running.add(proc);
    return { proc, url: proc.match[1]! };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cra-deno-server-'));
  });

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  let flow: FlowResult;

  it('serves the API: session, resolve, actions, trace, verify, stream, key isolation', async () => {
    const { proc, url } = await serve();
    expect(proc.output().stdout).toContain('atlas com.example.support@1.2.0');
    flow = await httpFlow(url, KEY, OTHER);

    // SIGTERM: a graceful stop that flushes and closes the store.
    expect(await proc.stop('SIGTERM')).toBe(0);
    running.delete(proc);
    expect(proc.output().stdout).toMatch(/SIGTERM: shutting down\nstopped\n$/);
    expect(proc.output().stderr).toBe('');

    // The trace is durable JSONL on disk, the same bytes the API answered, and it verifies.
    const onDisk = await readFile(join(dataDir, 'traces', `${flow.sessionId}.trace.jsonl`), 'utf8');
    expect(onDisk).toBe(flow.jsonl);
    expect(await verifyTrace(await fromJsonl(onDisk))).toMatchObject({ valid: true, length: FLOW_TYPES.length });
    expect(await readFile(join(dataDir, 'owners.jsonl'), 'utf8')).toContain(flow.sessionId);
  }, 60_000);

  it('restores the session after a restart, for its owner only', async () => {
    const { proc, url } = await serve();
    expect(proc.output().stdout).toContain('(1 session(s) indexed, 0 active; each restored when used)');
    const res = await fetch(`${url}/v1/sessions/${flow.sessionId}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await res.json()).toMatchObject({ session_id: flow.sessionId, status: 'ended', event_count: FLOW_TYPES.length });
    const verify = await fetch(`${url}/v1/traces/${flow.sessionId}/verify`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await verify.json()).toMatchObject({ valid: true, length: FLOW_TYPES.length });
    const other = await fetch(`${url}/v1/sessions/${flow.sessionId}`, { headers: { authorization: `Bearer ${OTHER}` } });
    expect(other.status).toBe(404);
    expect(await proc.stop('SIGINT')).toBe(0);
    running.delete(proc);
  }, 60_000);
});

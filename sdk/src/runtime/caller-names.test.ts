/**
 * An error names a field as its caller wrote it: the SDK's camelCase option (`agentId`) in the message as in the
 * path, in both modes; an HTTP caller, who writes the wire's snake_case, reads `agent_id`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, http, startTestServer, type TestServer } from '../../../server/src/testing.ts';
import { simpleAtlas, testClock, testIds } from '../../test/helpers.ts';
import { createClient } from '../client/client.ts';
import { CraError } from '../errors.ts';
import type { CraRuntime } from '../interface.ts';
import { createRuntime } from './runtime.ts';

const simple = await simpleAtlas();
const GOAL = 'Manage resources in the test environment';

async function failure(p: Promise<unknown>): Promise<CraError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CraError);
  return err as CraError;
}

describe('errors name the option the SDK caller wrote', () => {
  const closing: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c.close().catch(() => undefined);
  });

  const embedded = async (): Promise<CraRuntime> => {
    const rt = await createRuntime({ clock: testClock(), ids: testIds() });
    closing.push(rt);
    return rt;
  };
  const overHttp = async (): Promise<CraRuntime> => {
    const server = await startTestServer({ runtime: { clock: testClock(), ids: testIds() } });
    closing.push(server);
    const client = createClient({ baseUrl: server.url, apiKey: ADMIN_KEY });
    closing.push(client);
    return client;
  };

  for (const [mode, make] of [['embedded', embedded], ['http client', overHttp]] as const) {
    describe(mode, () => {
      it('createSession: `agentId` is required', async () => {
        const rt = await make();
        const err = await failure(rt.createSession({ goal: 'x' } as never));
        expect([err.code, err.path]).toEqual(['invalid_request', '/agentId']);
        expect(err.message).not.toContain('agent_id');
        const id = await failure(rt.createSession({ agentId: 'agent-1', goal: 'x', parentSessionId: 'p-1' }));
        expect(id.path).toBe('/parentSessionId');
        expect(id.message).toBe('`parentSessionId` must be a UUID');
      });

      it('requestAction: names `actionId` and `idempotencyKey`', async () => {
        const rt = await make();
        await rt.loadAtlas(simple);
        const session = await rt.createSession({ agentId: 'agent-1', goal: GOAL });
        await session.resolve();
        const missing = await failure(session.requestAction({ parameters: {} } as never));
        expect(missing.path).toBe('/actionId');
        expect(missing.message).toContain('`actionId`');
        expect(missing.message).not.toContain('action_id');
        const key = await failure(session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' }, idempotencyKey: '' }));
        expect(key.path).toBe('/idempotencyKey');
        expect(key.message).not.toContain('idempotency_key');
      });

      it('resolve options: names `requestId`', async () => {
        const rt = await make();
        await rt.loadAtlas(simple);
        const session = await rt.createSession({ agentId: 'agent-1', goal: GOAL });
        const err = await failure(session.resolve({ requestId: 'r-1' }));
        expect(err.path).toBe('/requestId');
        expect(err.message).toBe('`requestId` must be a UUID');
      });
    });
  }

  it('an HTTP caller writes and reads the wire names', async () => {
    const server = await startTestServer();
    closing.push(server);
    const res = await http<{ error: { message: string; path: string } }>(server.url, 'POST', '/v1/sessions', {
      key: ADMIN_KEY,
      body: { agent_id: 'agent-1', goal: 'x', parent_session_id: 'p-1' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ path: '/parent_session_id', message: '`parent_session_id` must be a UUID' });
  });
});

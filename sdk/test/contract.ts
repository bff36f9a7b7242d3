/**
 * The behaviour a CraRuntime must show. Only the embedded runtime runs it: in Node in
 * sdk/src/runtime/contract.test.ts (`npm test`), and in Chromium in sdk/test/browser/contract.browser.test.ts
 * (`npm run test:browser`). The HTTP client does not run this suite; it is held to the embedded runtime's answers
 * by the dual-mode suite (sdk/test/dual-mode.suite.ts, run by test/dual-mode/client.test.ts against a live server).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { CraError } from '../src/errors.ts';
import type { CraRuntime } from '../src/interface.ts';
import type { AtlasBundle } from '../src/types.ts';

export function runtimeContract(name: string, make: () => Promise<CraRuntime>, atlases: { simple: AtlasBundle; support: AtlasBundle }) {
  describe(`CraRuntime contract: ${name}`, () => {
    const open: CraRuntime[] = [];
    const start = async () => {
      const rt = await make();
      open.push(rt);
      await rt.loadAtlas(atlases.simple);
      await rt.loadAtlas(atlases.support);
      return rt;
    };
    afterEach(async () => {
      for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
    });

    it('resolves, checks and runs actions through one session, with a verifiable trace', async () => {
      const rt = await start();
      const session = await rt.createSession({ agentId: 'contract-agent', goal: 'Exercise the contract' });
      const resolution = await session.resolve({ atlasIds: ['com.cra.conformance.simple'] });
      expect(resolution.decision.type).toBe('allow');
      expect(await session.check('resource.get')).toMatchObject({ result: 'allow', allowed: true });
      expect(await session.check('resource.delete')).toMatchObject({ allowed: false });
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r-1' } });
      expect(ex.status).toBe('approved');
      expect((await session.complete(ex, { result: { ok: true } })).status).toBe('executed');
      const ex2 = await session.requestAction({ actionId: 'resource.list', parameters: {} });
      expect((await session.fail(ex2, { errorCode: 'timeout', errorMessage: 'slow' })).status).toBe('failed');
      const ended = await session.end('completed');
      const trace = await rt.trace(session.id);
      expect(trace).toHaveLength(ended.event_count);
      expect(await rt.verify(session.id)).toEqual({ valid: true, length: trace.length, head_hash: ended.head_hash });
      expect((await rt.diff(trace, trace)).identical).toBe(true);
    });

    it('gates approval-required actions on a host decision', async () => {
      const rt = await start();
      const session = await rt.createSession({ agentId: 'contract-agent', goal: 'Refund a customer' });
      await session.resolve({ requiredCapabilities: ['billing.refund'] });
      const params = { customer_id: 'c', payment_id: 'p', amount: 10, currency: 'USD' };
      const a = await session.requestAction({ actionId: 'refund.issue', parameters: params });
      expect(a.status).toBe('pending_approval');
      expect((await session.approve(a)).status).toBe('approved');
      const b = await session.requestAction({ actionId: 'refund.issue', parameters: { ...params, amount: 11 } });
      expect((await session.deny(b, { reason: 'no' })).status).toBe('denied');
    });

    it('answers errors as CraError with code, path and status, and changes nothing', async () => {
      const rt = await start();
      const session = await rt.createSession({ agentId: 'contract-agent', goal: 'Errors' });
      const before = await rt.trace(session.id);
      const err = await session.resolve({ atlasIds: ['com.example.absent'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CraError);
      expect(err).toMatchObject({ code: 'atlas_not_found', status: 404 });
      expect((err as CraError).path).toBe('/atlasIds/0');
      expect(await rt.trace(session.id)).toEqual(before);
      await expect(rt.getSession('00000000-0000-0000-0000-00000000ffff')).rejects.toMatchObject({ code: 'session_not_found', status: 404 });
      await expect(rt.loadAtlas(atlases.simple)).rejects.toMatchObject({ code: 'atlas_exists', status: 409 });
    });

    it('lists what it holds', async () => {
      const rt = await start();
      const s = await rt.createSession({ agentId: 'contract-agent', goal: 'List' });
      expect((await rt.listAtlases()).map((a) => a.atlas_id)).toEqual(['com.cra.conformance.simple', 'com.example.support']);
      expect((await rt.getAtlas('com.example.support')).atlas_id).toBe('com.example.support');
      expect((await rt.listSessions()).items.map((x) => x.session_id)).toContain(s.id);
      expect((await (await rt.getSession(s.id)).info()).status).toBe('active');
      expect(await rt.stats()).toMatchObject({ atlases: 2 });
    });
  });
}

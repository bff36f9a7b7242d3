/**
 * Keeps the bench from rotting without timing anything: the HTTP rows run once each against the real child servers
 * (CRA with auth on and JSONL traces, bare Hono) and answer what the bench expects of them; the check of answers
 * catches a wrong one; Cedar and CRA give the same decisions for the actions the bench compares; the generated
 * growth atlases load and narrow as the growth rows assume; the verify row's trace has the length it claims.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/runtime/runtime.ts';
import { verifyTrace } from '../src/runtime/tools.ts';
import { cedarDecider } from './cedar-fixture.ts';
import { growthAtlas } from './growth-atlas.ts';
import { supportAtlas } from './harness.ts';
import { httpRows, probe, type Servers, startServers, stopServers } from './http-rows.ts';
import { governedTrace, TRACE_EVENTS } from './verify.ts';

describe('bench HTTP rows', () => {
  let servers: Servers;

  beforeAll(async () => {
    servers = await startServers();
  }, 30_000);

  afterAll(async () => {
    if (servers) await stopServers(servers);
  });

  it('covers the CRA rows of the targets table and the two Hono baselines', () => {
    const names = httpRows('x').map((r) => r.name);
    for (const part of ['Hono: GET', 'Hono: POST', '/health', 'check', 'denied', 'resolve', 'durable governed']) {
      expect(names.some((n) => n.includes(part))).toBe(true);
    }
  });

  for (const row of httpRows('00000000-0000-4000-8000-000000000000')) {
    it(`${row.name}: one operation answers the expected status and body`, async () => {
      const live = httpRows(servers.sessionId).find((r) => r.name === row.name)!;
      expect(await probe(servers, live)).toEqual([]);
      expect(await probe(servers, live)).toEqual([]); // again: the governed row's second operation needs a new execution
    });
  }

  it('reports an answer that is not the one expected (here: a wrong key, 401)', async () => {
    const checkRow = httpRows(servers.sessionId).find((r) => r.name.includes('check'))!;
    const problems = await probe({ ...servers, key: 'not-the-key' }, checkRow);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/status 401, expected 200/);
  });
});

describe('bench Cedar baseline', () => {
  it('decides as the support atlas does: the same allow and deny for every action both express', async () => {
    const cedar = cedarDecider();
    const rt = await createRuntime({ atlases: [await supportAtlas()] });
    const session = await rt.createSession({ agentId: 'bench', goal: 'Answer ticket T-10042' });
    await session.resolve();
    const expected = { 'ticket.lookup': 'allow', 'customer.lookup': 'allow', 'ticket.reply': 'allow', 'ticket.close': 'allow', 'customer.delete': 'deny' };
    for (const [action, answer] of Object.entries(expected)) {
      expect(cedar.decide(action), action).toBe(answer);
      expect((await session.check(action)).allowed ? 'allow' : 'deny', action).toBe(answer);
    }
    await rt.close();
  });
});

describe('bench fixtures', () => {
  it('growth atlases load with their size and a cap0 resolve considers ten actions', async () => {
    for (const n of [10, 1_000]) {
      const rt = await createRuntime({ atlases: [growthAtlas(n)] });
      const session = await rt.createSession({ agentId: 'bench', goal: 'growth' });
      const r = await session.resolve({ requiredCapabilities: ['cap0'] });
      expect(r.allowed_actions).toHaveLength(9);
      expect(r.denied_actions.map((d) => d.action_id)).toEqual(['g0.a9']);
      expect((await session.resolve()).allowed_actions).toHaveLength((n / 10) * 9);
      await rt.close();
    }
  });

  it(`the verify row's trace is ${TRACE_EVENTS} events made by the runtime, and verifies`, async () => {
    const events = await governedTrace(undefined, TRACE_EVENTS);
    expect(events).toHaveLength(TRACE_EVENTS);
    expect(await verifyTrace(events)).toMatchObject({ valid: true, length: TRACE_EVENTS });
  });
});

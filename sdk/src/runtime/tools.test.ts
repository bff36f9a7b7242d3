import { describe, expect, it } from 'vitest';
import { readJsonl, simpleAtlas, testClock, testIds } from '../../test/helpers.ts';
import type { TraceEvent } from '../types.ts';
import { createRuntime } from './runtime.ts';
import { canonicalHash, diffTraces, fromJsonl, replayTrace, toJsonl, verifyTrace } from './tools.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl');
const edit = (i: number, patch: Partial<TraceEvent>) => chain.map((e, j) => (j === i ? { ...e, ...patch } : e));

describe('verifyTrace', () => {
  it('accepts a valid chain and answers its head', async () => {
    expect(await verifyTrace(chain)).toEqual({ valid: true, length: 8, head_hash: chain[7]!.event_hash });
    expect(await verifyTrace(chain, { expectedHead: { length: 8, head_hash: chain[7]!.event_hash } })).toMatchObject({ valid: true });
  });

  it('names the first bad event and why', async () => {
    expect(await verifyTrace(chain.slice(1))).toMatchObject({ valid: false, index: 0 });
    expect(await verifyTrace([chain[0]!, chain[2]!])).toMatchObject({ valid: false, index: 1, reason: 'sequence_gap' });
    expect(await verifyTrace(edit(3, { previous_event_hash: chain[1]!.event_hash }))).toMatchObject({ valid: false, index: 3, reason: 'broken_link' });
    expect(await verifyTrace(edit(5, { payload: { ...chain[5]!.payload, result: 'deny' } }))).toEqual({ valid: false, index: 5, reason: 'hash_mismatch' });
    // SPEC §4.2 checks the hash before the session: a moved event that was not re-hashed fails on its hash
    // (the core's own tests cover a re-hashed event of another session, which fails with session_mismatch).
    expect(await verifyTrace(edit(2, { session_id: '00000000-0000-7000-8000-000000000101' }))).toMatchObject({ valid: false, index: 2, reason: 'hash_mismatch' });
    expect(await verifyTrace(edit(4, { event_id: chain[4]!.event_id.toUpperCase() }))).toMatchObject({ valid: false, index: 4, reason: 'malformed_event' });
    expect(await verifyTrace(edit(0, { previous_event_hash: 'f'.repeat(64) }))).toMatchObject({ valid: false, index: 0, reason: 'bad_genesis' });
  });

  it('takes the JSONL text of a trace, with the same verdicts as its events', async () => {
    const cases = [chain, chain.slice(1), [chain[0]!, chain[2]!], edit(5, { payload: { ...chain[5]!.payload, result: 'deny' } }), []];
    for (const events of cases) {
      const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
      expect(await verifyTrace(text)).toEqual(await verifyTrace(events));
    }
    const text = await toJsonl(chain);
    await expect(verifyTrace(text.slice(0, -1))).rejects.toMatchObject({ code: 'invalid_json', path: '/jsonl' });
    await expect(verifyTrace(text.replace('\n{', '\n{]'))).rejects.toMatchObject({ code: 'invalid_json', path: '/jsonl' });
    expect(await verifyTrace(text, { expectedHead: { length: 8, head_hash: chain[7]!.event_hash } })).toMatchObject({ valid: true });
  });

  it('refuses what is not a trace with a path', async () => {
    await expect(verifyTrace([{ ...chain[0]!, payload: { n: Number.NaN } }])).rejects.toMatchObject({ code: 'invalid_json', path: '/events/0/payload/n' });
    await expect(verifyTrace({} as never)).rejects.toMatchObject({ code: 'invalid_request', path: '/events' });
  });

  it('refuses a chain cut short when the head is known', async () => {
    const r = await verifyTrace(chain.slice(0, 6), { expectedHead: { length: 8, head_hash: chain[7]!.event_hash } });
    expect(r.valid).toBe(false);
  });
});

describe('JSONL', () => {
  it('exports one event per line with a trailing newline and imports it back', async () => {
    const text = await toJsonl(chain);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(9);
    expect(await fromJsonl(text)).toEqual(chain);
  });

  it('refuses a malformed line, naming it', async () => {
    const text = await toJsonl(chain);
    const broken = text.replace(/\n[^\n]*\n$/, '\n{"trace_version":\n');
    await expect(fromJsonl(broken)).rejects.toMatchObject({ code: 'invalid_json' });
  });
});

describe('diffTraces', () => {
  it('ignores ids, times and hashes, and reports payload paths that differ', async () => {
    const renamed = chain.map((e) => ({ ...e, event_id: e.event_id.replace('e0000000', 'f0000000'), timestamp: e.timestamp.replace('12:00', '13:00') }));
    expect(await diffTraces(chain, renamed)).toEqual({ identical: true, differences: [] });
    const changed = edit(6, { payload: { ...chain[6]!.payload, policy_id: 'other' } });
    expect(await diffTraces(chain, changed)).toEqual({
      identical: false,
      differences: [{ index: 6, kind: 'changed', event_type: 'policy.evaluated', paths: ['/payload/policy_id'] }],
    });
    const diff = await diffTraces(chain.slice(0, 6), chain);
    expect(diff.differences.map((d) => [d.index, d.kind])).toEqual([
      [6, 'added'],
      [7, 'added'],
    ]);
  });
});

describe('canonicalHash', () => {
  it('is RFC 8785 canonical JSON and its SHA-256', async () => {
    const r = await canonicalHash({ z: [3, { b: 2, a: 1 }], a: 'ü' });
    expect(r.canonical).toBe('{"a":"ü","z":[3,{"a":1,"b":2}]}');
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(r.canonical)));
    expect(r.sha256).toBe([...digest].map((b) => b.toString(16).padStart(2, '0')).join(''));
  });
});

describe('replayTrace', () => {
  it('reproduces a recorded session against the same atlas, and notices a different one', async () => {
    const atlas = await simpleAtlas();
    const rt = await createRuntime({ clock: testClock(), ids: testIds() });
    try {
      await rt.loadAtlas(atlas);
      const session = await rt.createSession({ agentId: 'a', goal: 'g' });
      await session.resolve();
      const ex = await session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r' } });
      await session.complete(ex);
      await session.end();
      const trace = await session.trace();
      const same = await replayTrace(trace, atlas);
      expect(same).toMatchObject({ identical: true, divergences: [], original_length: trace.length, replayed_length: trace.length });
      const stricter = structuredClone(atlas);
      stricter.manifest.policies!.push({ policy_id: 'no-get', type: 'deny', actions: ['resource.get'], priority: 500 });
      const other = await replayTrace(trace, stricter);
      expect(other.identical).toBe(false);
      expect(other.divergences.length).toBeGreaterThan(0);
    } finally {
      await rt.close();
    }
  });
});

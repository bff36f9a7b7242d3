/**
 * Proofs in both modes (embedded, and the HTTP client against the real server over loopback): signed checkpoints,
 * inclusion and consistency proofs, receipts and their refusals, and the sync of a session governed elsewhere. Here,
 * not under `sdk/`, because it needs the server.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAtlasDir } from '../../sdk/src/atlas/dir.ts';
import { CraError } from '../../sdk/src/errors.ts';
import type { CraRuntime } from '../../sdk/src/interface.ts';
import { generateSigningKey } from '../../sdk/src/proof/signer.ts';
import type { Receipt, SigningKeyPair } from '../../sdk/src/proof/types.ts';
import { verifyCheckpoint, verifyProof, verifyReceipt } from '../../sdk/src/proof/verify.ts';
import { createRuntime } from '../../sdk/src/runtime/runtime.ts';
import type { AtlasBundle, TraceEvent } from '../../sdk/src/types.ts';
import { EXAMPLES } from '../../sdk/test/helpers.ts';
import { testClock, testIds } from '../../sdk/test/portable.ts';
import { testServerClient } from '../../server/src/testing.ts';

let support: AtlasBundle;
let key: SigningKeyPair;
let other: SigningKeyPair;
beforeAll(async () => {
  support = await loadAtlasDir(join(EXAMPLES, 'atlases/support'));
  key = await generateSigningKey('cra.test/proofs');
  other = await generateSigningKey('cra.test/proofs');
});

type Make = (signing: { key: string; every?: number } | undefined) => Promise<CraRuntime>;
const modes: Array<[string, Make]> = [
  ['embedded', (signing) => createRuntime(signing ? { signing } : {})],
  ['http', (signing) => testServerClient({ runtime: signing ? { signing } : {} })],
];

async function rejection(p: Promise<unknown>): Promise<CraError> {
  const err = await p.then(() => new Error('expected a rejection'), (e: unknown) => e);
  expect(err).toBeInstanceOf(CraError);
  return err as CraError;
}

/** A session that looks up a ticket (allowed, executed) and is ended: 9 events or so. */
async function lookupSession(rt: CraRuntime) {
  const session = await rt.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
  await session.resolve({ requiredCapabilities: ['tickets.read'] });
  const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
  await session.complete(lookup, { result: { status: 'open' } });
  return { session, lookup };
}

describe.each(modes)('proofs (%s)', (_mode, make) => {
  const open: CraRuntime[] = [];
  const start = async (signing: { key: string; every?: number } | null = { key: key.signer, every: 4 }) => {
    const rt = await make(signing ?? undefined);
    open.push(rt);
    await rt.loadAtlas(support);
    return rt;
  };
  afterEach(async () => {
    for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
  });

  it('signs a checkpoint every N events and at the end, each verifying with the key and no other', async () => {
    const rt = await start();
    const { session } = await lookupSession(rt);
    await session.end();
    const trace = await session.trace();
    const checkpoints = await session.checkpoints();
    const sizes = checkpoints.map((c) => c.size);
    // Every 4 events (a step may cross a multiple by several events: the checkpoint is at the step's end), then the end.
    expect(sizes.at(-1)).toBe(trace.length);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    for (const c of checkpoints) {
      expect(c.session_id).toBe(session.id);
      expect(c.note.startsWith(`cra.test/proofs/${session.id}\n${c.size}\n`)).toBe(true);
      expect(await verifyCheckpoint(c.note, { keys: key.verifier })).toMatchObject({ valid: true, size: c.size, root: c.root, key: key.verifier });
      expect(await verifyCheckpoint(c.note, { keys: other.verifier })).toMatchObject({ valid: false, reason: 'unknown_key' });
      expect(await rt.verifyCheckpoint(c.note, { keys: [key.verifier] })).toMatchObject({ valid: true });
    }
    // A flipped byte of the signature, or of the body: refused.
    const last = checkpoints.at(-1)!.note;
    const sig = last.slice(last.lastIndexOf(' ') + 1, -1);
    const flipped = last.replace(sig, sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11));
    expect(await verifyCheckpoint(flipped, { keys: key.verifier })).toMatchObject({ valid: false, reason: 'bad_signature' });
    const resized = last.replace(`\n${trace.length}\n`, `\n${trace.length - 1}\n`);
    expect(await verifyCheckpoint(resized, { keys: key.verifier })).toMatchObject({ valid: false, reason: 'bad_signature' });
    expect(await verifyCheckpoint('not a note', { keys: key.verifier })).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('proves every event of the log into a signed checkpoint, and one checkpoint consistent with a later one', async () => {
    const rt = await start();
    const { session } = await lookupSession(rt);
    const early = await session.checkpoint();
    await session.record('error.occurred', { code: 'e', message: 'after the first checkpoint' });
    const late = await session.checkpoint();
    const trace = await session.trace();
    expect(late.size).toBe(trace.length);
    for (const event of trace) {
      const proof = await session.prove({ index: event.sequence });
      expect(proof).toMatchObject({ type: 'inclusion', index: event.sequence, size: trace.length, root: late.root, event_hash: event.event_hash });
      expect(await verifyProof(proof, { event, checkpoint: late.note, keys: key.verifier })).toMatchObject({ valid: true, key: key.verifier });
      // The checkpoint as checkpoints() lists it, too.
      if (event.sequence === 0) expect(await verifyProof(proof, { event, checkpoint: late, keys: key.verifier })).toMatchObject({ valid: true });
    }
    const proof = await session.prove({ index: 2 });
    // Another event, a flipped proof hash, a checkpoint of another size, another key: refused.
    expect(await verifyProof(proof, { event: trace[3]!, checkpoint: late.note, keys: key.verifier })).toMatchObject({ valid: false, reason: 'wrong_event' });
    if (proof.type !== 'inclusion') throw new Error('inclusion expected');
    const bent = { ...proof, proof: proof.proof.map((h, i) => (i === 0 ? `${h[0] === '0' ? '1' : '0'}${h.slice(1)}` : h)) };
    expect(await verifyProof(bent, { checkpoint: late.note, keys: key.verifier })).toMatchObject({ valid: false, reason: 'proof_invalid' });
    expect(await verifyProof(proof, { checkpoint: early.note, keys: key.verifier })).toMatchObject({ valid: false, reason: 'checkpoint_mismatch' });
    expect(await verifyProof(proof, { checkpoint: late.note, keys: other.verifier })).toMatchObject({ valid: false, reason: 'unknown_key' });
    // Consistency: the early tree is a prefix of the late one, proven from the two checkpoints alone.
    const consistency = await session.prove({ first: early.size });
    const ok = await rt.verifyProof(consistency, { checkpoint: late.note, firstCheckpoint: early.note, keys: key.verifier });
    expect(ok).toMatchObject({ valid: true, type: 'consistency' });
    if (consistency.type !== 'consistency') throw new Error('consistency expected');
    const swapped = { ...consistency, first_root: consistency.second_root };
    expect(await verifyProof(swapped, { keys: key.verifier })).toMatchObject({ valid: false, reason: 'proof_invalid' });
    // Out of range: a typed error naming the member.
    expect(await rejection(session.prove({ index: trace.length }))).toMatchObject({ code: 'invalid_request', path: '/index' });
  });

  it('gives a receipt of an execution that verifies offline, and refuses it after any change', async () => {
    const rt = await start();
    const { session, lookup } = await lookupSession(rt);
    const receipt = await session.receipt(lookup);
    expect(receipt).toMatchObject({ receipt_version: '1', session_id: session.id, execution_id: lookup.execution_id });
    expect(receipt.entries.map((e) => e.event.event_type)).toEqual(['action.requested', 'action.approved', 'action.executed']);
    expect(await verifyReceipt(receipt, { keys: key.verifier })).toMatchObject({ valid: true, execution_id: lookup.execution_id, events: 3, key: key.verifier });
    expect(await rt.verifyReceipt(receipt, { keys: [key.verifier] })).toMatchObject({ valid: true });
    const edit = (f: (r: Receipt) => void): Receipt => {
      const r = structuredClone(receipt);
      f(r);
      return r;
    };
    const refusals: Array<[Receipt, string]> = [
      [edit((r) => (r.entries[0]!.event.payload.action_id = 'ticket.reply')), 'event_hash_mismatch'],
      [edit((r) => (r.entries[1]!.proof[0] = '0'.repeat(64))), 'proof_invalid'],
      [edit((r) => (r.entries[2]!.index += 1)), 'wrong_index'],
      [edit((r) => (r.execution_id = '00000000-0000-7000-8000-000000000001')), 'wrong_execution'],
      [edit((r) => (r.checkpoint = r.checkpoint.replace(/\n([A-Za-z0-9+/]{43}=)\n/, (_m, root: string) => `\n${root[0] === 'A' ? 'B' : 'A'}${root.slice(1)}\n`))), 'proof_invalid'],
      [edit((r) => (r.checkpoint = r.checkpoint.replace(/ (\S+)\n$/, (_m, s: string) => ` ${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}\n`))), 'bad_signature'],
    ];
    for (const [r, reason] of refusals) expect(await verifyReceipt(r, { keys: key.verifier })).toMatchObject({ valid: false, reason });
    expect(await verifyReceipt(receipt, { keys: other.verifier })).toMatchObject({ valid: false, reason: 'unknown_key' });
    // An execution of no event of the session: execution_not_found.
    expect(await rejection(session.receipt('00000000-0000-7000-8000-000000000001'))).toMatchObject({ code: 'execution_not_found' });
  });

  it('stores no second checkpoint of the same tree; a note read without its final newline is the same note', async () => {
    const rt = await start();
    const { session } = await lookupSession(rt);
    const before = (await session.checkpoints()).length;
    const a = await session.checkpoint();
    const b = await session.checkpoint();
    expect(b).toEqual(a);
    expect((await session.checkpoints()).length).toBe(before + 1);
    expect(await verifyCheckpoint(a.note.slice(0, -1), { keys: key.verifier })).toMatchObject({ valid: true, size: a.size });
    expect(await verifyCheckpoint(`${a.note}\n`, { keys: key.verifier })).toMatchObject({ valid: false, reason: 'malformed', message: expect.stringContaining('ends with an empty line') });
  });

  it('without a signing key: no checkpoints, and checkpoint() and receipts answer no_signing_key', async () => {
    const rt = await start(null);
    const { session, lookup } = await lookupSession(rt);
    await session.end();
    expect(await session.checkpoints()).toEqual([]);
    expect(await rejection(session.checkpoint())).toMatchObject({ code: 'no_signing_key', status: 409 });
    expect(await rejection(session.receipt(lookup))).toMatchObject({ code: 'no_signing_key', status: 409 });
    // Proofs need no key.
    expect(await session.prove({ index: 0 })).toMatchObject({ type: 'inclusion', index: 0 });
  });
});

describe.each(modes)('sync into %s', (_mode, make) => {
  const open: CraRuntime[] = [];
  afterEach(async () => {
    for (const rt of open.splice(0)) await rt.close().catch(() => undefined);
  });
  /** A runtime governing sessions (as a browser tab does), with deterministic ids so that two of them can fork one session. */
  const governing = async (signer = key) => {
    const rt = await createRuntime({ signing: { key: signer.signer, every: 0 }, clock: testClock(), ids: testIds() });
    open.push(rt);
    await rt.loadAtlas(support);
    return rt;
  };

  it('accepts a first upload and its continuations, and refuses a rewritten history', async () => {
    const receiver = await make(undefined);
    open.push(receiver);
    const tab = await governing();
    const { session } = await lookupSession(tab);
    await session.checkpoint();
    let state = await receiver.syncState(session.id);
    expect(state).toMatchObject({ length: 0, checkpoint: null });
    const first = await receiver.sync(await tab.syncUpload(session.id, state));
    const trace = await session.trace();
    expect(first).toMatchObject({ session_id: session.id, appended: trace.length, length: trace.length, head_hash: trace.at(-1)!.event_hash });
    expect(await receiver.verify(session.id)).toMatchObject({ valid: true, length: trace.length });
    // A continuation: only the new events and checkpoint travel.
    await session.record('error.occurred', { code: 'e', message: 'later' });
    await session.end();
    state = await receiver.syncState(session.id);
    const upload = await tab.syncUpload(session.id, state);
    expect(upload.events.map((e) => e.sequence)).toEqual([trace.length, trace.length + 1]);
    expect(await receiver.sync(upload)).toMatchObject({ appended: 2, length: trace.length + 2 });
    expect(await receiver.trace(session.id)).toEqual(await session.trace());
    // Nothing new: the upload is empty, and the answer says where both stand.
    const idle = await tab.syncUpload(session.id, await receiver.syncState(session.id));
    expect(idle).toMatchObject({ session_id: session.id, events: [], checkpoints: [] });
    expect(await receiver.sync(idle)).toMatchObject({ appended: 0, length: trace.length + 2 });
    // Proofs and receipts of the synced session, from the receiver, under the tab's checkpoints.
    const cps = await receiver.checkpoints(session.id);
    expect(cps.at(-1)!.size).toBe(trace.length + 2);
    const proof = await receiver.prove(session.id, { index: 1 });
    expect(await verifyProof(proof, { checkpoint: cps.at(-1)!.note, keys: key.verifier })).toMatchObject({ valid: true });

    // A fork: the same session (same ids, same clock) whose history differs after the lookup.
    const fork = await governing();
    const forked = await fork.createSession({ agentId: 'support-bot', goal: 'Answer ticket T-10042' });
    expect(forked.id).toBe(session.id);
    await forked.resolve({ requiredCapabilities: ['tickets.read'] });
    await forked.record('error.occurred', { code: 'x', message: 'another history' });
    await forked.checkpoint();
    const rewritten = await rejection(receiver.sync(await fork.syncUpload(session.id)));
    expect(rewritten).toMatchObject({ code: 'history_rewritten', status: 409 });
    expect(rewritten.path).toMatch(/^\/incoming\/\d+$|^\/events\/\d+$/);
    // Nothing changed.
    expect(await receiver.trace(session.id)).toEqual(await session.trace());
    // A held event re-sent with other contents under its old hash: rewritten too, pointed at in the upload.
    const resent = await tab.syncUpload(session.id);
    resent.events[1] = { ...resent.events[1]!, payload: { ...resent.events[1]!.payload, goal: 'another goal' } };
    expect(await rejection(receiver.sync(resent))).toMatchObject({ code: 'history_rewritten', path: '/events/1' });
    expect(await receiver.trace(session.id)).toEqual(await session.trace());
  });

  it('pins the key of a session to its first sync, and refuses unsigned or partly signed uploads', async () => {
    const receiver = await make(undefined);
    open.push(receiver);
    const tab = await governing();
    const { session } = await lookupSession(tab);
    await session.checkpoint();
    await receiver.sync(await tab.syncUpload(session.id));
    await session.record('error.occurred', { code: 'e', message: 'later' });
    await session.checkpoint();
    const upload = await tab.syncUpload(session.id, await receiver.syncState(session.id));
    // The same upload claiming another key: refused (its signatures are not that key's).
    expect(await rejection(receiver.sync({ ...upload, key: other.verifier }))).toMatchObject({ code: 'checkpoint_invalid' });
    // No checkpoint covering the last event: refused (syncUpload signs one; an upload made otherwise may lack it).
    await session.record('error.occurred', { code: 'e', message: 'unsigned' });
    const partly = await tab.syncUpload(session.id, await receiver.syncState(session.id));
    const length = (await session.trace()).length;
    const older = (await tab.checkpoints(session.id)).filter((c) => c.size < length).map((c) => c.note);
    expect(await rejection(receiver.sync({ ...partly, checkpoints: older }))).toMatchObject({ code: 'checkpoint_invalid', path: '/checkpoints' });
    expect(await rejection(receiver.sync({ ...partly, checkpoints: [] }))).toMatchObject({ code: 'checkpoint_invalid', path: '/checkpoints' });
    // The valid continuation still goes through.
    expect(await receiver.sync(upload)).toMatchObject({ appended: 1 });
  });

  it('refuses to sync into a session the receiver governs or governed itself', async () => {
    const receiver = await make({ key: key.signer });
    open.push(receiver);
    await receiver.loadAtlas(support);
    const own = await receiver.createSession({ agentId: 'support-bot', goal: 'g' });
    const tab = await governing();
    const s = await tab.createSession({ agentId: 'support-bot', goal: 'g' });
    await s.checkpoint();
    const upload = await tab.syncUpload(s.id);
    const foreign: TraceEvent[] = upload.events.map((e) => ({ ...e, session_id: own.id }));
    const err = await rejection(receiver.sync({ ...upload, session_id: own.id, events: foreign }));
    expect(err).toMatchObject({ code: 'session_exists', path: '/events/0/session_id' });
    expect(await receiver.verify(own.id)).toMatchObject({ valid: true });
    // Ended (no longer live), with the receiver's own checkpoint: still its own, never appended to from outside.
    await own.end();
    const held = await receiver.trace(own.id);
    const forged = await rejection(receiver.sync({ ...upload, session_id: own.id, events: [...held, ...foreign.slice(1)] }));
    expect(forged).toMatchObject({ code: 'session_exists' });
    expect(await receiver.trace(own.id)).toEqual(held);
  });
});

describe('a server-signed trace, checked by `cra verify` and by the independent Python verifier', () => {
  it('both accept what the server wrote and signed, and both refuse it cut or edited', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { execFile } = await import('node:child_process');
    const { cli } = await import('../../sdk/src/cli/testing.ts');
    const python = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile('python3', ['-m', 'cra_client.verify', ...args], { cwd: join(import.meta.dirname, '../../clients/python') }, (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
    const server = await testServerClient({ runtime: { signing: { key: key.signer, every: 5 } } });
    const dir = await mkdtemp(join(tmpdir(), 'cra-server-signed-'));
    try {
      await server.loadAtlas(support);
      const { session } = await lookupSession(server);
      await session.end();
      const trace = await server.trace(session.id);
      const checkpoints = await server.checkpoints(session.id);
      expect(checkpoints.length).toBeGreaterThanOrEqual(2);
      const jsonl = trace.map((e) => `${JSON.stringify(e)}\n`).join('');
      const notes = checkpoints.map((c) => `${JSON.stringify(c.note)}\n`).join('');
      const files = {
        trace: join(dir, `${session.id}.trace.jsonl`),
        checkpoints: join(dir, `${session.id}.checkpoints.jsonl`),
        cut: join(dir, 'cut.trace.jsonl'),
        edited: join(dir, 'edited.trace.jsonl'),
      };
      await writeFile(files.trace, jsonl);
      await writeFile(files.checkpoints, notes);
      await writeFile(files.cut, jsonl.split('\n').slice(0, -2).join('\n') + '\n');
      const editedText = jsonl.replace('Answer ticket T-10042', 'Answer ticket T-10043');
      expect(editedText).not.toBe(jsonl);
      await writeFile(files.edited, editedText);
      // Both accept the server's trace with its checkpoints and key.
      const ours = await cli(['verify', files.trace, '--checkpoint', files.checkpoints, '--key', key.verifier]);
      expect(ours.code).toBe(0);
      expect(ours.stdout).toContain(`valid: ${trace.length} events`);
      expect(ours.stdout).toContain(`checkpoints: ${checkpoints.length} verified`);
      const theirs = await python([files.trace, '--checkpoints', files.checkpoints, '--key', key.verifier]);
      expect(theirs.code).toBe(0);
      // The same verdict line as `cra verify`, word for word.
      expect(theirs.stdout).toBe(ours.stdout);
      // Cut by its last event: the chain alone is still whole, the checkpoints show the cut — to both.
      expect((await cli(['verify', files.cut, '--checkpoint', files.checkpoints, '--key', key.verifier])).code).toBe(1);
      expect((await python([files.cut, '--checkpoints', files.checkpoints, '--key', key.verifier])).code).toBe(1);
      // An edited event: both refuse the chain at the same event.
      const edited = await cli(['verify', files.edited, '--json']);
      const editedPy = await python([files.edited, '--json']);
      expect(edited.code).toBe(1);
      expect(editedPy.code).toBe(1);
      const a = JSON.parse(edited.stdout) as { valid: boolean; index: number; reason: string };
      const b = JSON.parse(editedPy.stdout) as { valid: boolean; index: number; reason: string };
      expect([b.valid, b.index, b.reason]).toEqual([a.valid, a.index, a.reason]);
      // The wrong key: both refuse.
      expect((await cli(['verify', files.trace, '--checkpoint', files.checkpoints, '--key', other.verifier])).code).toBe(1);
      expect((await python([files.trace, '--checkpoints', files.checkpoints, '--key', other.verifier])).code).toBe(1);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

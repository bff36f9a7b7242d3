/**
 * Proofs over HTTP ([Proofs](../../../docs/protocol.md#proofs)): a session's signed checkpoints, inclusion and
 * consistency proofs, receipts of its executions, the sync of a session another runtime governs, verification of
 * what any of these routes answered (for clients with no core of their own), and the server's verifier key.
 *
 * Every route naming a session goes through the ownership check, except the first sync of a session the server
 * has never held: that sync makes the caller its owner, before anything is stored.
 *
 * @module
 */

import { createRoute, z } from '@hono/zod-openapi';
import { CraError } from '../../../sdk/src/errors.ts';
import { isUuid } from '../../../sdk/src/host.ts';
import type { SyncUpload } from '../../../sdk/src/proof/sync.ts';
import type { Proof, ProveQuery, Receipt } from '../../../sdk/src/proof/types.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import type { App, Services } from '../context.ts';
import { SessionIdParam } from '../schemas.ts';
import { errors, json, ok, owned, requestBody, route, valid } from './helpers.ts';

const Proofs = ['Proofs'];
const object = z.record(z.string(), z.unknown());
const keys = z
  .union([z.string(), z.array(z.string()).min(1)])
  .openapi({ description: 'A verifier key string (`<name>+<key id>+<base64>`) or several' });
/** A signed note: its text, or a checkpoint as `GET …/checkpoints` lists it. */
const note = z.union([z.string(), z.object({ note: z.string() }).passthrough()]);
const noteText = (n: z.infer<typeof note>): string => (typeof n === 'string' ? n : n.note);

const CheckpointSchema = z
  .object({ note: z.string(), session_id: z.string(), size: z.number().int(), root: z.string(), time: z.string().nullable() })
  .openapi('Checkpoint');
const ProofSchema = object.openapi('Proof', { description: 'An inclusion proof (`type: "inclusion"`) or a consistency proof (`type: "consistency"`)' });
const ReceiptSchema = object.openapi('Receipt', { description: '`{receipt_version, session_id, execution_id, entries: [{index, event, proof}], checkpoint}`' });
const VerdictSchema = object.openapi('ProofVerdict', { description: '`{valid: true, …}` or `{valid: false, reason, message, path}`' });
const SyncStateSchema = z
  .object({ session_id: z.string(), length: z.number().int(), head_hash: z.string(), checkpoint: z.string().nullable() })
  .openapi('SyncState');
const SyncResultSchema = SyncStateSchema.extend({ appended: z.number().int(), root: z.string() }).openapi('SyncResult');

const ProveQuerySchema = z.object({
  index: z.coerce.number().int().min(0).optional().openapi({ description: 'Inclusion: the event (its sequence)' }),
  size: z.coerce.number().int().min(0).optional().openapi({ description: 'Inclusion: the tree size (default: the whole log)' }),
  first: z.coerce.number().int().min(0).optional().openapi({ description: 'Consistency: the older tree size' }),
  second: z.coerce.number().int().min(0).optional().openapi({ description: 'Consistency: the newer tree size (default: the whole log)' }),
});
const ReceiptParams = SessionIdParam.extend({
  execution_id: z.string().openapi({ param: { name: 'execution_id', in: 'path' }, format: 'uuid' }),
});
const SyncBody = z
  .object({ session_id: z.string().optional(), events: z.array(object), checkpoints: z.array(z.string()), key: z.string().optional() })
  .openapi('SyncUpload');
const VerifyCheckpointBody = z.object({ note, keys });
const VerifyProofBody = z.object({
  proof: object,
  event: object.optional(),
  checkpoint: note.optional(),
  first_checkpoint: note.optional(),
  keys: keys.optional(),
});
const VerifyReceiptBody = z.object({ receipt: object, keys });

export function proofRoutes(app: App, s: Services): void {
  const { runtime } = s;
  /** Syncs of one session run one at a time, so that a first sync claims the session once. */
  const syncing = new Map<string, Promise<unknown>>();

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/checkpoints',
      tags: Proofs,
      summary: "A session's signed checkpoints, oldest first",
      request: { params: SessionIdParam },
      responses: { 200: ok('The checkpoints', z.object({ items: z.array(CheckpointSchema) })), ...errors(404) },
    }),
    async (c) => json(c, { items: await runtime.checkpoints(await owned(c, s)) }),
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions/{session_id}/checkpoints',
      tags: Proofs,
      summary: "Sign and store a checkpoint of a session's log now (needs CRA_SIGNING_KEY: 409 no_signing_key otherwise)",
      request: { params: SessionIdParam },
      responses: { 201: ok('The checkpoint', CheckpointSchema), ...errors(404, 409) },
    }),
    async (c) => json(c, await runtime.checkpoint(await owned(c, s)), 201),
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/proof',
      tags: Proofs,
      summary: 'An inclusion proof (?index=&size=) or a consistency proof (?first=&second=) over a session\'s log',
      request: { params: SessionIdParam, query: ProveQuerySchema },
      responses: { 200: ok('The proof', ProofSchema), ...errors(400, 404) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const q = valid<z.infer<typeof ProveQuerySchema>>(c, 'query');
      let query: ProveQuery;
      if (q.index !== undefined && q.first === undefined && q.second === undefined) query = { index: q.index, ...(q.size !== undefined ? { size: q.size } : {}) };
      else if (q.first !== undefined && q.index === undefined && q.size === undefined) query = { first: q.first, ...(q.second !== undefined ? { second: q.second } : {}) };
      else throw new CraError('invalid_request', 'ask for ?index= (and size) or ?first= (and second)', { path: '/index' });
      return json(c, await runtime.prove(id, query));
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/receipts/{execution_id}',
      tags: Proofs,
      summary:
        'The receipt of an execution: its events, their inclusion proofs and the newest stored checkpoint; when none covers them yet, the server signs and stores one (needs CRA_SIGNING_KEY: 409 no_signing_key otherwise)',
      request: { params: ReceiptParams },
      responses: { 200: ok('The receipt', ReceiptSchema), ...errors(404, 409) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const executionId = valid<{ execution_id: string }>(c, 'param').execution_id.toLowerCase();
      return json(c, await runtime.receipt(id, executionId));
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/sessions/{session_id}/sync',
      tags: Proofs,
      summary: 'What the server holds of a session governed elsewhere: where the next sync starts (length 0 for one it has never held)',
      request: { params: SessionIdParam },
      responses: { 200: ok('The state', SyncStateSchema), ...errors(404) },
    }),
    async (c) => {
      const id = valid<{ session_id: string }>(c, 'param').session_id.toLowerCase();
      if (!isUuid(id)) throw await s.ownership.missing(id);
      // A session nobody holds is answered as empty (its first sync claims it); a held one only to its owner.
      if (s.ownership.owners.get(id) !== undefined || !s.ownership.enforced) await s.ownership.check(c.var.principal, id);
      else if ((await runtime.syncState(id)).length > 0) throw await s.ownership.missing(id);
      return json(c, await runtime.syncState(id));
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/sessions/{session_id}/sync',
      tags: Proofs,
      summary:
        'Take the events and signed checkpoints of a session governed elsewhere (a browser): the chain must extend what is held, the checkpoints verify and stay consistent; a rewritten history is 409 history_rewritten',
      request: { params: SessionIdParam, body: requestBody(SyncBody) },
      responses: { 200: ok('What the server now holds', SyncResultSchema), ...errors(400, 404, 409) },
    }),
    async (c) => {
      const id = valid<{ session_id: string }>(c, 'param').session_id.toLowerCase();
      if (!isUuid(id)) throw await s.ownership.missing(id);
      const upload = valid<SyncUpload>(c, 'json');
      const first = (upload.events[0] as TraceEvent | undefined)?.session_id;
      if (first !== undefined && first !== id) throw new CraError('invalid_request', `the events are of session ${String(first)}, not ${id}`, { path: '/events/0/session_id' });
      if (upload.session_id !== undefined && upload.session_id.toLowerCase() !== id) throw new CraError('invalid_request', `\`session_id\` is ${upload.session_id}, the path names ${id}`, { path: '/session_id' });
      const previous = syncing.get(id) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(async () => {
        const held = (await runtime.syncState(id)).length > 0 || s.ownership.owners.get(id) !== undefined;
        if (held) await s.ownership.check(c.var.principal, id);
        else if (s.ownership.enforced) await s.ownership.claim(c.var.principal, id);
        return runtime.sync({ ...upload, session_id: id });
      });
      syncing.set(id, run);
      try {
        return json(c, await run);
      } finally {
        if (syncing.get(id) === run) syncing.delete(id);
      }
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/checkpoints/verify',
      tags: Proofs,
      summary: 'Check a signed checkpoint with verifier keys',
      request: { body: requestBody(VerifyCheckpointBody) },
      responses: { 200: ok('The verdict', VerdictSchema), ...errors(400) },
    }),
    async (c) => {
      const b = valid<z.infer<typeof VerifyCheckpointBody>>(c, 'json');
      return json(c, await runtime.verifyCheckpoint(noteText(b.note), { keys: b.keys }));
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/proofs/verify',
      tags: Proofs,
      summary: 'Check an inclusion or consistency proof, against its event and signed checkpoints when given',
      request: { body: requestBody(VerifyProofBody) },
      responses: { 200: ok('The verdict', VerdictSchema), ...errors(400) },
    }),
    async (c) => {
      const b = valid<z.infer<typeof VerifyProofBody>>(c, 'json');
      return json(
        c,
        await runtime.verifyProof(b.proof as unknown as Proof, {
          ...(b.event !== undefined ? { event: b.event as unknown as TraceEvent } : {}),
          ...(b.checkpoint !== undefined ? { checkpoint: noteText(b.checkpoint) } : {}),
          ...(b.first_checkpoint !== undefined ? { firstCheckpoint: noteText(b.first_checkpoint) } : {}),
          ...(b.keys !== undefined ? { keys: b.keys } : {}),
        }),
      );
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/receipts/verify',
      tags: Proofs,
      summary: 'Check a receipt with verifier keys',
      request: { body: requestBody(VerifyReceiptBody) },
      responses: { 200: ok('The verdict', VerdictSchema), ...errors(400) },
    }),
    async (c) => {
      const b = valid<z.infer<typeof VerifyReceiptBody>>(c, 'json');
      return json(c, await runtime.verifyReceipt(b.receipt as unknown as Receipt, { keys: b.keys }));
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/checkpoint-key',
      tags: Proofs,
      summary: "The verifier key of the server's checkpoints (null when it signs none): public, so that anyone can check them",
      responses: { 200: ok('The key', z.object({ key: z.string().nullable() })) },
    }),
    async (c) => json(c, { key: await runtime.checkpointKey() }),
  );
}

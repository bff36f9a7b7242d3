/**
 * Proofs over a trace held as a file or an array, with no runtime: the tree's root, inclusion and consistency
 * proofs, receipts, and signing a checkpoint of a trace with a signer key (what the `cra` command does with a
 * trace file). The core reads the trace (its JSONL text directly) and refuses one whose chain does not verify.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import { checkJsonValue } from '../json-value.ts';
import { jsonlText, withCore, type ToolOptions } from '../runtime/tools.ts';
import type { TraceEvent } from '../types.ts';
import { isObject } from '../util.ts';
import { loadSigner } from './signer.ts';
import type { Checkpoint, Proof, ProveQuery, Receipt } from './types.ts';

/** A trace as events or as its JSONL text. */
export type TraceInput = readonly TraceEvent[] | string;

/** The JSONL text of a trace given either way (the core's cheapest reading). */
function textOf(trace: TraceInput): string {
  if (typeof trace === 'string') return trace;
  if (!Array.isArray(trace)) throw new CraError('invalid_request', 'the trace must be an array of events or JSONL text', { path: '/events' });
  checkJsonValue(trace, '/events');
  return jsonlText(trace);
}

/** The Merkle tree of a trace (of its first `size` events). */
export interface TraceTree {
  /** The session of the trace. */
  session_id: string;
  /** Events in the trace. */
  length: number;
  /** Events the root covers. */
  size: number;
  /** The Merkle root of the first `size` events. */
  root: string;
  /** The hash of event `size - 1` (64 zeros for 0). */
  head_hash: string;
  /** With `sizes`: the root of the first events at each of those sizes, in their order. */
  roots?: string[];
}

/**
 * The Merkle root of a trace whose chain verifies (`trace_invalid` otherwise); with `sizes`, also the root at each
 * of those sizes, in one pass (checking many checkpoints of one trace).
 */
export function traceTree(trace: TraceInput, options?: ToolOptions & { size?: number; sizes?: readonly number[] }): Promise<TraceTree> {
  const text = textOf(trace);
  const input = { ...(options?.size !== undefined ? { size: options.size } : {}), ...(options?.sizes !== undefined ? { sizes: [...options.sizes] } : {}) };
  return withCore(options, (core, now) => core.call<TraceTree>('trace.tree', input, now, text));
}

/** An inclusion proof (`{ index, size? }`) or a consistency proof (`{ first, second? }`) over a trace. */
export function proveTrace(trace: TraceInput, query: ProveQuery, options?: ToolOptions): Promise<Proof> {
  const text = textOf(trace);
  if (!isObject(query)) throw new CraError('invalid_request', 'say what to prove: { index, size? } or { first, second? }', { path: '' });
  if ('index' in query) {
    const input = { index: query.index, ...(query.size !== undefined ? { size: query.size } : {}) };
    return withCore(options, (core, now) => core.call<Proof>('proof.inclusion', input, now, text));
  }
  if ('first' in query) {
    const input = { first: query.first, ...(query.second !== undefined ? { second: query.second } : {}) };
    return withCore(options, (core, now) => core.call<Proof>('proof.consistency', input, now, text));
  }
  throw new CraError('invalid_request', 'say what to prove: { index, size? } or { first, second? }', { path: '' });
}

/** The receipt of an execution of a trace, under a signed checkpoint of that trace covering its events. */
export function buildReceipt(trace: TraceInput, executionId: string, checkpoint: string, options?: ToolOptions): Promise<Receipt> {
  const text = textOf(trace);
  return withCore(options, (core, now) => core.call<Receipt>('receipt.build', { execution_id: executionId, checkpoint }, now, text));
}

/**
 * Signs a checkpoint of a trace (of its first `size` events, all by default) with a signer key string, at the host
 * time: for a trace kept by a runtime that signed none, or a new checkpoint of one that did.
 */
export async function signTrace(trace: TraceInput, signerKey: string, options?: ToolOptions & { size?: number }): Promise<Checkpoint> {
  const tree = await traceTree(trace, options);
  const signer = await loadSigner(signerKey, options);
  const body = await withCore(options, (core, now) => core.call<{ body: string }>('checkpoint.body', { name: signer.name, session_id: tree.session_id, size: tree.size, root: tree.root }, now).body);
  const note = await withCore(options, (core) => signer.sign(core, body));
  return { note, session_id: tree.session_id, size: tree.size, root: tree.root, time: body.match(/\ntime (\S+)\n/)?.[1] ?? null };
}

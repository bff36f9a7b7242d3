/**
 * The ABI contract test: `wasm/abi.json` against what is derived from it (sdk/src/abi.ts, the tables of
 * wasm/ABI.md) and against the core itself. The Rust side has its own half (`wasm/tests/abi_contract.rs`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { disagreements, PATHS, readContract, renderTable } from '../../scripts/abi.mjs';
import { ABI_VERSION, CHECK_CODES, CHECK_RESULTS, CORE_ERROR_STATUS, EVENT_TYPES, HOST_EVENT_TYPES, MAX_JSON_DEPTH, OPERATIONS } from './abi.ts';
import { CraError, ERROR_STATUS } from './errors.ts';
import { Core } from './runtime/core.ts';
import { compileCore } from './runtime/load.ts';
import { testClock, testIds } from '../test/helpers.ts';

type Contract = {
  abi_version: number;
  operations: Array<{ name: string }>;
  error_codes: Array<{ code: string; http: number; origin: string }>;
  check_codes: Array<{ code: number; name: string }>;
  event_types: Array<{ type: string; emitted_by: string; required?: string[] }>;
};

const files = () => ({ ts: readFileSync(PATHS.ts, 'utf8'), md: readFileSync(PATHS.md, 'utf8') });
const contract = (): Contract => readContract();

describe('ABI contract', () => {
  it('sdk/src/abi.ts and the tables of wasm/ABI.md are what wasm/abi.json renders to', () => {
    expect(disagreements(contract(), files())).toEqual([]);
  });

  it('fails on a planted disagreement in the contract, the TypeScript or the document', () => {
    const c = contract();
    c.error_codes.find((e) => e.code === 'session_ended')!.http = 410;
    expect(disagreements(c, files())).toEqual([
      expect.stringContaining('sdk/src/abi.ts is not what wasm/abi.json renders to'),
      expect.stringContaining('wasm/ABI.md table error_codes differs'),
    ]);
    const { ts, md } = files();
    expect(disagreements(contract(), { ts: ts.replace('session_ended: 6', 'ended: 6'), md })).toEqual([
      expect.stringContaining('sdk/src/abi.ts is not what wasm/abi.json renders to'),
    ]);
    expect(disagreements(contract(), { ts, md: md.replace('| `trace.diff` |', '| `trace.compare` |') })).toEqual([
      expect.stringContaining('wasm/ABI.md table operations differs'),
    ]);
    const twice = contract();
    twice.operations.push({ ...twice.operations[0]! });
    expect(disagreements(twice, files())).toContain(`operation ${twice.operations[0]!.name} is listed twice`);
  });

  it('renders every table from the contract', () => {
    expect(renderTable(contract(), 'check_codes')).toContain('| 6 | `session_ended` |');
  });

  it('the TypeScript constants carry the contract', () => {
    const c = contract();
    expect(ABI_VERSION).toBe(c.abi_version);
    expect([...OPERATIONS]).toEqual(c.operations.map((o) => o.name));
    expect(Object.entries(CHECK_CODES)).toEqual(c.check_codes.map((k) => [k.name, k.code]));
    expect(Object.keys(CORE_ERROR_STATUS)).toEqual(c.error_codes.filter((e) => e.origin === 'core').map((e) => e.code));
    for (const e of c.error_codes.filter((x) => x.origin !== 'http')) expect(new CraError(e.code, 'x').status).toBe(e.http);
    expect(Object.keys(ERROR_STATUS).length).toBe(c.error_codes.filter((e) => e.origin !== 'http').length);
    expect([...EVENT_TYPES]).toEqual(c.event_types.map((e) => e.type));
    expect(HOST_EVENT_TYPES).toEqual(Object.fromEntries(c.event_types.filter((e) => e.emitted_by === 'host').map((e) => [e.type, e.required])));
  });

  it('the core implements the contract: its version, every operation and no other', async () => {
    const core = await Core.instantiate(await compileCore(), { ids: testIds() });
    const now = Date.UTC(2024, 11, 28) * 1000;
    for (const op of OPERATIONS) {
      const answered = (() => {
        try {
          core.call(op, {}, now);
          return 'ok';
        } catch (err) {
          return (err as CraError).code;
        }
      })();
      expect(answered, op).not.toBe('unknown_operation');
      expect(answered, op).not.toBe('core_failure');
    }
    expect(() => core.call('session.rewind', {}, now)).toThrow(expect.objectContaining({ code: 'unknown_operation' }));
  });

  it('the core names the check codes as the contract does', async () => {
    const core = await Core.instantiate(await compileCore(), { ids: testIds() });
    const clock = testClock();
    const { session } = core.call<{ session: { session_id: string } }>('session.create', { agent_id: 'abi', goal: 'check names' }, clock());
    const check = () => core.call<{ result: string; code: number }>('session.check', { session_id: session.session_id, action_id: 'any.thing' }, clock());
    const before = check();
    expect(before).toEqual({ result: 'no_resolution', code: CHECK_CODES.no_resolution });
    core.call('session.end', { session_id: session.session_id }, clock());
    const after = check();
    expect(after).toEqual({ result: 'session_ended', code: CHECK_CODES.session_ended });
    for (const answer of [before, after]) expect(CHECK_RESULTS.get(answer.code)).toBe(answer.result);
  });

  it('the core parses JSON nested exactly max_json_depth deep, and no deeper (what hosts refuse up front)', async () => {
    const c = readContract() as Contract & { max_json_depth: number };
    expect(MAX_JSON_DEPTH).toBe(c.max_json_depth);
    const core = await Core.instantiate(await compileCore(), { ids: testIds() });
    // {"a": [[…]]}: the object is depth 1, each array one more.
    const nested = (depth: number) => {
      let v: unknown = [];
      for (let d = 2; d < depth; d++) v = [v];
      return { a: v };
    };
    const codeAt = (depth: number) => {
      try {
        core.call('atlas.validate', nested(depth), 0);
        return 'ok';
      } catch (err) {
        return `${(err as CraError).code}`;
      }
    };
    expect(codeAt(MAX_JSON_DEPTH)).not.toBe('invalid_json');
    expect(codeAt(MAX_JSON_DEPTH + 1)).toBe('invalid_json');
  });
});

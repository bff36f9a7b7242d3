/**
 * The public surface refuses bad arguments with a CraError and nothing else: every method of the runtime, its
 * sessions, the HTTP client and its sessions, the guard, the tool-format helpers, the collector and the sinks is
 * called with arbitrary values in each argument. A refusal changes nothing (same head, same trace length), the core
 * never traps, and values nested far past the stack's depth are refused with a pointer instead of a RangeError.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestServer, type TestServer } from '../../../server/src/testing.ts';
import { simpleAtlas, tempDir, testIds } from '../../test/helpers.ts';
import { loadAtlasDir } from '../atlas/dir.ts';
import { createClient, type HttpRuntime } from '../client/client.ts';
import { BufferedCollector, createCollector } from '../collector/collector.ts';
import { jsonlSink } from '../collector/jsonl-sink.ts';
import { callbackSink, memorySink } from '../collector/sinks.ts';
import { CraError } from '../errors.ts';
import { guard, refusalOf } from '../guard/guard.ts';
import type { CraRuntime, CraSession } from '../interface.ts';
import { describeValue, MAX_JSON_DEPTH, toJson } from '../json-value.ts';
import { toAnthropicTools, toMcpTools, toOpenAITools, toolSpecs } from '../tools/formats.ts';
import { defaultToolName, ToolNames } from '../tools/names.ts';
import { handleAnthropicToolUse, handleOpenAIToolCalls, toolResultText } from '../tools/runners.ts';
import type { AtlasBundle, Execution, JsonObject, Resolution } from '../types.ts';
import { tzOffsetMinutes } from './core.ts';
import { validateParameters } from './params.ts';
import { createRuntime, type EmbeddedRuntime } from './runtime.ts';
import { canonicalHash, diffTraces, fromJsonl, replayTrace, toJsonl, verifyTrace } from './tools.ts';

const SEED = 20_260_501;

/** `depth` nested objects, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

/** A lone surrogate, or any other code point, as a one-character string. */
const anyUnit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

/**
 * Values nothing should choke on: JSON and not, deep, huge, prototype-named members, lone surrogates. Huge strings
 * stay under the server's body limit (1 MiB) where a server is called.
 */
const hostileValues = (huge: number): fc.Arbitrary<unknown> => fc.oneof(
  fc.constantFrom<unknown>(
    null,
    undefined,
    NaN,
    Infinity,
    -Infinity,
    -0,
    '',
    '\ud800',
    'a\udc00b',
    [],
    {},
    [undefined],
    10n,
    Symbol('s'),
    () => 1,
    new Date(0),
    new Map([[1, 2]]),
    Object.create(null),
    { toString: 1, valueOf: 2 },
  ),
  fc.constant(null).map(() => JSON.parse('{"__proto__":{"x":1},"constructor":{"prototype":{}},"prototype":null}')),
  fc.integer({ min: MAX_JSON_DEPTH - 2, max: 20_000 }).map(nested),
  fc.constant(null).map(() => 'x'.repeat(huge)),
  fc.string({ unit: anyUnit, maxLength: 40 }),
  fc.double(),
  fc.anything({
    maxDepth: 4,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withBoxedValues: true,
    withTypedArray: true,
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'toJSON', 'then'), fc.string({ unit: anyUnit })),
  }),
);

/** A short, printable form of a counterexample (a huge string would drown the report). */
function clip(value: unknown): string {
  return describeValue(toJson(value)).slice(0, 300) || JSON.stringify(toJson(value)).slice(0, 300);
}

/** `fc.assert` with a seed, reporting the counterexample clipped. */
async function holds<T>(arb: fc.Arbitrary<T>, prop: (v: T) => Promise<void>, numRuns: number): Promise<void> {
  const run = await fc.check(fc.asyncProperty(arb, prop), { seed: SEED, numRuns });
  if (!run.failed) return;
  const args = Array.isArray(run.counterexample?.[0]) ? (run.counterexample[0] as unknown[]) : [];
  throw new Error(`counterexample (${args.map((a) => clip(a)).join(' | ')}): ${String(run.errorInstance)}`.slice(0, 2000));
}

/** A call of the surface: its name, arguments made of valid ones with arbitrary ones in their place. */
interface Entry {
  name: string;
  /** Valid arguments (the arbitrary ones replace some of them). */
  args: () => unknown[];
  call: (...args: unknown[]) => unknown;
}

/** Runs a call; answers its error (undefined when it succeeded). Sync throws and rejections both count. */
async function outcome(entry: Entry, args: unknown[]): Promise<unknown> {
  try {
    await entry.call(...args);
    return undefined;
  } catch (err) {
    return err === undefined ? new Error('rejected with undefined') : err;
  }
}

function expectCraError(err: unknown, what: string): void {
  if (err === undefined) return;
  if (!(err instanceof CraError)) throw new Error(`${what} failed with ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`);
  expect(err.code, `${what}: ${err.message}`).not.toBe('core_failure');
}

/** Arguments for `entry`: each one either valid or arbitrary (at least one arbitrary). */
function argsFor(entry: Entry, hostile = hostileValues(1 << 20)): fc.Arbitrary<unknown[]> {
  const n = Math.max(1, entry.args().length);
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: n, maxLength: n }), fc.array(hostile, { minLength: n, maxLength: n }))
    .map(([pick, values]) => {
      const valid = entry.args();
      const args = Array.from({ length: n }, (_, i) => (pick[i] || i >= valid.length ? values[i] : valid[i]));
      return pick.every((p) => !p) ? [values[0], ...args.slice(1)] : args;
    });
}

const atlas: AtlasBundle = await simpleAtlas();

/** The runtime and session methods of either mode, with the session held in `ctx` (a new one after an end). */
function sessionEntries(ctx: { runtime: CraRuntime; session: CraSession; execution: Execution }): Entry[] {
  const s = () => ctx.session;
  const ex = () => ctx.execution;
  return [
    { name: 'session.resolve', args: () => [{ goal: 'g' }, undefined], call: (a, b) => s().resolve(a as never, b as never) },
    { name: 'session.validate', args: () => [{}, undefined], call: (a, b) => s().validate(a as never, b as never) },
    { name: 'session.check', args: () => ['resource.get'], call: (a) => s().check(a as never) },
    { name: 'session.requestAction', args: () => [{ actionId: 'resource.get', parameters: { resource_id: 'r' } }], call: (a) => s().requestAction(a as never) },
    { name: 'session.execution', args: () => [ex().execution_id], call: (a) => s().execution(a as never) },
    { name: 'session.approve', args: () => [ex(), {}], call: (a, b) => s().approve(a as never, b as never) },
    { name: 'session.deny', args: () => [ex(), {}], call: (a, b) => s().deny(a as never, b as never) },
    { name: 'session.complete', args: () => [ex(), { result: 1 }], call: (a, b) => s().complete(a as never, b as never) },
    { name: 'session.fail', args: () => [ex(), { errorCode: 'x', errorMessage: 'y' }], call: (a, b) => s().fail(a as never, b as never) },
    { name: 'session.record', args: () => ['error.occurred', { code: 'c', message: 'm' }], call: (a, b) => s().record(a as never, b as never) },
    { name: 'session.end', args: () => ['completed'], call: (a) => s().end(a as never) },
    { name: 'runtime.loadAtlas', args: () => [atlas, { replace: true }], call: (a, b) => ctx.runtime.loadAtlas(a as never, b as never) },
    { name: 'runtime.validateAtlas', args: () => [atlas, {}], call: (a, b) => ctx.runtime.validateAtlas(a as never, b as never) },
    { name: 'runtime.getAtlas', args: () => [atlas.manifest.atlas_id], call: (a) => ctx.runtime.getAtlas(a as never) },
    { name: 'runtime.createSession', args: () => [{ agentId: 'a', goal: 'g' }], call: (a) => ctx.runtime.createSession(a as never) },
    { name: 'runtime.getSession', args: () => [s().id], call: (a) => ctx.runtime.getSession(a as never) },
    { name: 'runtime.carp', args: () => [{}], call: (a) => ctx.runtime.carp(a as never) },
    { name: 'runtime.trace', args: () => [s().id], call: (a) => ctx.runtime.trace(a as never) },
    { name: 'runtime.verify', args: () => [s().id], call: (a) => ctx.runtime.verify(a as never) },
    { name: 'runtime.replay', args: () => [s().id], call: (a) => ctx.runtime.replay(a as never) },
    { name: 'runtime.diff', args: () => [[], []], call: (a, b) => ctx.runtime.diff(a as never, b as never) },
  ];
}

/** Head and length of the session's chain. */
async function headOf(ctx: { session: CraSession }): Promise<[string, number]> {
  const info = await ctx.session.info();
  return [info.head_hash, (await ctx.session.trace()).length];
}

describe.each(['embedded', 'http'] as const)('the public surface (%s) refuses only with CraError', (mode) => {
  let server: TestServer | undefined;
  let runtime: EmbeddedRuntime | HttpRuntime;
  const ctx = {} as { runtime: CraRuntime; session: CraSession; execution: Execution };

  beforeAll(async () => {
    if (mode === 'embedded') {
      runtime = await createRuntime({ ids: testIds(), atlases: [atlas] });
    } else {
      server = await startTestServer({ runtime: { atlases: [atlas] } });
      runtime = createClient({ baseUrl: server.url, apiKey: ADMIN_KEY });
    }
    ctx.runtime = runtime;
  });
  afterAll(async () => {
    await runtime.close();
    await server?.close();
  });

  /** A fresh session with a resolution and a pending execution (an approval-gated action). */
  const freshSession = async () => {
    ctx.session = await runtime.createSession({ agentId: 'agent-1', goal: 'Manage resources in the test environment' });
    await ctx.session.resolve();
    ctx.execution = await ctx.session.requestAction({ actionId: 'resource.get', parameters: { resource_id: 'r-1' } });
  };

  for (const entry of sessionEntries(ctx)) {
    it(`${entry.name}: only CraError; a refusal changes neither head nor trace`, async () => {
      await freshSession();
      await holds(
        argsFor(entry, hostileValues(mode === 'embedded' ? 1 << 20 : 1 << 19)),
        async (args) => {
          if ((await ctx.session.info()).status === 'ended') await freshSession();
          const before = await headOf(ctx);
          const err = await outcome(entry, args);
          expectCraError(err, entry.name);
          if (err !== undefined) expect(await headOf(ctx)).toEqual(before);
        },
        mode === 'embedded' ? 60 : 30,
      );
    });
  }

  it('approve, deny and complete with null options: invalid_request at the options, nothing recorded', async () => {
    await freshSession();
    for (const call of [
      () => ctx.session.approve(ctx.execution, null as never),
      () => ctx.session.deny(ctx.execution, null as never),
      () => ctx.session.complete(ctx.execution, null as never),
      () => ctx.session.approve(ctx.execution, 'yes' as never),
    ]) {
      const before = await headOf(ctx);
      await expect(call()).rejects.toMatchObject({ name: 'CraError', code: 'invalid_request', path: '' });
      expect(await headOf(ctx)).toEqual(before);
    }
  });

  it('values nested 10 000 deep are refused with a pointer, not a RangeError', async () => {
    await freshSession();
    const deep = nested(10_000) as JsonObject;
    const before = await headOf(ctx);
    const refusals = [
      [() => ctx.session.record('error.occurred', { code: 'c', message: 'm', deep } as never), `/payload/deep${'/a'.repeat(MAX_JSON_DEPTH - 2)}`],
      [() => ctx.session.requestAction({ actionId: 'resource.get', parameters: { deep } }), `/parameters/deep${'/a'.repeat(MAX_JSON_DEPTH - 2)}`],
      [() => ctx.session.complete(ctx.execution, { result: deep }), `/result${'/a'.repeat(MAX_JSON_DEPTH - 1)}`],
      [() => ctx.session.resolve({ context: deep }), `/context${'/a'.repeat(MAX_JSON_DEPTH - 1)}`],
      [() => ctx.runtime.createSession({ agentId: 'a', goal: 'g', metadata: deep }), `/metadata${'/a'.repeat(MAX_JSON_DEPTH - 1)}`],
      [() => ctx.runtime.validateAtlas({ ...atlas, manifest: { ...atlas.manifest, deep } as never }), `/manifest/deep${'/a'.repeat(MAX_JSON_DEPTH - 2)}`],
      [() => ctx.runtime.loadAtlas({ ...atlas, manifest: { ...atlas.manifest, deep } as never }, { replace: true }), `/manifest/deep${'/a'.repeat(MAX_JSON_DEPTH - 2)}`],
      [() => ctx.runtime.diff([deep as never], []), `/a/0${'/a'.repeat(MAX_JSON_DEPTH - 2)}`],
    ] as const;
    for (const [call, path] of refusals) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(CraError);
      expect({ code: (err as CraError).code, path: (err as CraError).path }).toEqual({ code: 'invalid_json', path });
    }
    expect(await headOf(ctx)).toEqual(before);
  });
});

describe('__proto__ in parameters is data, in both modes', () => {
  it('gives a parameters_hash of its own, the same embedded and over HTTP', async () => {
    const open = { defaultDecision: 'allow' as const, atlases: [atlas] };
    const embedded = await createRuntime(open);
    const server = await startTestServer({ runtime: open });
    const client = createClient({ baseUrl: server.url, apiKey: ADMIN_KEY });
    try {
      const hashes = async (rt: CraRuntime) => {
        const s = await rt.createSession({ agentId: 'a', goal: 'g' });
        await s.resolve();
        const withProto = await s.requestAction({ actionId: 'resource.get', parameters: JSON.parse('{"__proto__":{"x":1},"a":1}') });
        const plain = await s.requestAction({ actionId: 'resource.get', parameters: { a: 1 } });
        return [withProto.parameters_hash, plain.parameters_hash];
      };
      const [inProcess, overHttp] = [await hashes(embedded), await hashes(client)];
      expect(inProcess[0]).not.toBe(inProcess[1]);
      expect(overHttp).toEqual(inProcess);
    } finally {
      await client.close();
      await server.close();
      await embedded.close();
    }
  });
});

describe('helpers refuse only with CraError', () => {
  let runtime: EmbeddedRuntime;
  let resolution: Resolution;
  let g: ReturnType<typeof guard>;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    runtime = await createRuntime({ ids: testIds(), atlases: [atlas] });
    const session = await runtime.createSession({ agentId: 'a', goal: 'g' });
    resolution = await session.resolve();
    g = guard(session, { 'resource.get': () => ({ ok: true }) });
    dir = await tempDir();
  });
  afterAll(async () => {
    await runtime.close();
    await dir.cleanup();
  });

  const entries = (): Entry[] => [
    { name: 'toolSpecs', args: () => [resolution, 'openai'], call: (a, b) => toolSpecs(a as never, b as never) },
    { name: 'toOpenAITools', args: () => [resolution, { api: 'responses' }], call: (a, b) => toOpenAITools(a as never, b as never) },
    { name: 'toAnthropicTools', args: () => [resolution], call: (a) => toAnthropicTools(a as never) },
    { name: 'toMcpTools', args: () => [{ resolution }], call: (a) => toMcpTools(a as never) },
    { name: 'defaultToolName', args: () => ['a.b'], call: (a) => defaultToolName(a as never) },
    { name: 'ToolNames.fromAtlases', args: () => [[atlas.manifest]], call: (a) => ToolNames.fromAtlases(a as never) },
    { name: 'ToolNames.nameOf', args: () => ['a.b', 'openai'], call: (a, b) => new ToolNames().nameOf(a as never, b as never) },
    { name: 'ToolNames.actionOf', args: () => ['a_b', 'mcp'], call: (a, b) => new ToolNames().actionOf(a as never, b as never) },
    { name: 'guard', args: () => [g.session, {}, {}], call: (a, b, c) => guard(a as never, b as never, c as never) },
    { name: 'guard.call', args: () => ['resource_get', { resource_id: 'r' }, {}], call: (a, b, c) => g.call(a as never, b, c as never) },
    { name: 'refusalOf', args: () => [{ status: 'denied', details: null }], call: (a) => refusalOf(a as never) },
    { name: 'toolResultText', args: () => [{ ok: true, result: 1 }], call: (a) => toolResultText(a as never) },
    { name: 'handleOpenAIToolCalls', args: () => [g, []], call: (a, b) => handleOpenAIToolCalls(a as never, b as never) },
    { name: 'handleAnthropicToolUse', args: () => [g, []], call: (a, b) => handleAnthropicToolUse(a as never, b as never) },
    { name: 'createCollector', args: () => [[], {}], call: (a, b) => void createCollector(a as never, b as never).close() },
    { name: 'BufferedCollector.record', args: () => [[]], call: (a) => new BufferedCollector([memorySink()], { flushIntervalMs: 0 }).record(a as never) },
    { name: 'memorySink.write', args: () => [[]], call: (a) => memorySink().write(a as never) },
    { name: 'callbackSink', args: () => [() => undefined, 'cb'], call: (a, b) => callbackSink(a as never, b as never).write([]) },
    { name: 'jsonlSink.write', args: () => [[]], call: (a) => jsonlSink({ dir: dir.dir }).write(a as never) },
    { name: 'jsonlSink', args: () => [{ dir: dir.dir }], call: (a) => jsonlSink(a as never) },
    { name: 'createClient', args: () => [{ baseUrl: 'http://127.0.0.1:9' }], call: (a) => createClient(a as never) },
    { name: 'validateParameters', args: () => [{ type: 'object' }, {}], call: (a, b) => validateParameters(a as never, b) },
    { name: 'tzOffsetMinutes', args: () => ['Europe/Paris', 0], call: (a, b) => tzOffsetMinutes(a as never, b as never) },
    { name: 'canonicalHash', args: () => [{ a: 1 }, {}], call: (a, b) => canonicalHash(a, b as never) },
    { name: 'verifyTrace', args: () => [[], {}], call: (a, b) => verifyTrace(a as never, b as never) },
    { name: 'diffTraces', args: () => [[], []], call: (a, b) => diffTraces(a as never, b as never) },
    { name: 'toJsonl', args: () => [[]], call: (a) => toJsonl(a as never) },
    { name: 'fromJsonl', args: () => [''], call: (a) => fromJsonl(a as never) },
    { name: 'replayTrace', args: () => [[], atlas, {}], call: (a, b, c) => replayTrace(a as never, b as never, c as never) },
    { name: 'loadAtlasDir', args: () => [dir.dir], call: (a) => loadAtlasDir(a as never) },
    { name: 'CraError', args: () => ['invalid_request', 'm', {}], call: (a, b, c) => new CraError(a as never, b as never, c as never) },
  ];

  for (const entry of entries()) {
    it(`${entry.name}`, async () => {
      await holds(argsFor(entry), async (args) => expectCraError(await outcome(entry, args), entry.name), 60);
    });
  }
});

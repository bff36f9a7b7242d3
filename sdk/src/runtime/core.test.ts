import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { faults, T0_US, TRAP_MODULE, testIds, type Fault } from '../../test/helpers.ts';
import { CraError } from '../errors.ts';
import { Core, tzOffsetMinutes, UNKNOWN_ZONE } from './core.ts';
import { compileCore } from './load.ts';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('tzOffsetMinutes (the cra_host_tz_offset import)', () => {
  it('answers the offset of named zones, with daylight saving time', () => {
    expect(tzOffsetMinutes('Europe/Paris', at('2024-12-28T12:00:00Z'))).toBe(60);
    expect(tzOffsetMinutes('Europe/Paris', at('2024-07-01T12:00:00Z'))).toBe(120);
    expect(tzOffsetMinutes('America/New_York', at('2024-12-28T12:00:00Z'))).toBe(-300);
    expect(tzOffsetMinutes('Asia/Kolkata', at('2024-12-28T12:00:00Z'))).toBe(330);
    expect(tzOffsetMinutes('Asia/Kathmandu', at('2024-12-28T12:00:00Z'))).toBe(345);
    expect(tzOffsetMinutes('Australia/Lord_Howe', at('2024-12-28T12:00:00Z'))).toBe(660);
    expect(tzOffsetMinutes('Australia/Lord_Howe', at('2024-07-01T12:00:00Z'))).toBe(630);
    expect(tzOffsetMinutes('UTC', at('2024-07-01T12:00:00Z'))).toBe(0);
  });

  it('switches exactly at a transition', () => {
    expect(tzOffsetMinutes('America/New_York', at('2024-03-10T06:59:59Z'))).toBe(-300);
    expect(tzOffsetMinutes('America/New_York', at('2024-03-10T07:00:00Z'))).toBe(-240);
  });

  it('answers the sentinel for unknown zones', () => {
    expect(UNKNOWN_ZONE).toBe(-2147483648);
    expect(tzOffsetMinutes('Mars/Olympus_Mons', at('2024-12-28T12:00:00Z'))).toBe(UNKNOWN_ZONE);
    expect(tzOffsetMinutes('', 0)).toBe(UNKNOWN_ZONE);
    expect(tzOffsetMinutes('Europe/Paris', Number.NaN)).toBe(UNKNOWN_ZONE);
  });
});

describe('Core.instantiate', () => {
  it('refuses a module that is not a CRA core', async () => {
    await expect(Core.instantiate(new WebAssembly.Module(TRAP_MODULE), { ids: testIds() })).rejects.toMatchObject({
      code: 'core_unavailable',
      message: expect.stringMatching(/export memory is missing/),
    });
  });
});

describe('Core (ABI glue over the real module)', () => {
  const make = async (options: { ids?: () => string; fault?: Fault } = {}) => {
    const hook = options.fault ? faults(options.fault) : undefined;
    return Core.instantiate(await compileCore(), { ids: options.ids ?? testIds(), ...(hook ? { instrument: hook } : {}) });
  };

  it('answers the ok value of an operation', async () => {
    const core = await make();
    const stats = core.call<{ atlases: number; sessions: number; memory_bytes: number }>('runtime.stats', {}, T0_US);
    expect(stats).toMatchObject({ atlases: 0, sessions: 0 });
    expect(stats.memory_bytes).toBeGreaterThan(0);
    expect(core.memoryBytes).toBeGreaterThan(0);
  });

  it('hashes canonical JSON with real SHA-256 (UTF-8 both ways)', async () => {
    const core = await make();
    const r = core.call<{ canonical: string; sha256: string }>('canonical.hash', { value: { b: 1, a: 'é✓ "q"', c: [true, null] } }, T0_US);
    expect(r.canonical).toBe('{"a":"é✓ \\"q\\"","b":1,"c":[true,null]}');
    expect(r.sha256).toBe(createHash('sha256').update(r.canonical, 'utf8').digest('hex'));
  });

  it('copies large inputs in and out (memory may grow during a call)', async () => {
    const core = await make();
    const before = core.memoryBytes;
    const big = 'x'.repeat(4 * 1024 * 1024);
    const r = core.call<{ canonical: string }>('canonical.hash', { value: big }, T0_US);
    expect(r.canonical.length).toBe(big.length + 2);
    expect(core.memoryBytes).toBeGreaterThan(before);
    expect(core.call('runtime.stats', {}, T0_US)).toBeTruthy();
  });

  it('throws the core error of an {error} envelope, with its path, and stays usable', async () => {
    const core = await make();
    const err = (() => {
      try {
        core.call('atlas.load', { manifest: { atlas_version: '1.0', atlas_id: 'Bad Id', version: '1.0.0', name: 'n', description: 'd' } }, T0_US);
      } catch (e) {
        return e as CraError;
      }
    })()!;
    expect(err).toBeInstanceOf(CraError);
    expect(err.code).toBe('atlas_invalid');
    expect(err.path).toBe('/atlas_id'); // atlas errors point into the manifest
    expect(err.status).toBe(400);
    expect(core.poisoned).toBe(false);
    expect(() => core.call('no.such.op', {}, T0_US)).toThrow(expect.objectContaining({ code: 'unknown_operation' }));
    expect(core.poisoned).toBe(false);
  });

  it('refuses input that is not JSON before calling the core', async () => {
    const core = await make();
    expect(() => core.call('canonical.hash', { value: 10n }, T0_US)).toThrow(expect.objectContaining({ code: 'invalid_json' }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => core.call('canonical.hash', { value: cyclic }, T0_US)).toThrow(expect.objectContaining({ code: 'invalid_json' }));
    expect(() => core.call('runtime.stats', {}, Number.NaN)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(core.poisoned).toBe(false);
  });

  it('writes host ids into the module; ids that are not lowercase UUIDs fail closed with host_id_invalid', async () => {
    let source: () => string = () => 'ABCDEF00-0000-7000-8000-000000000001';
    const core = await make({ ids: () => source() });
    const create = () => core.call<{ session: { session_id: string } }>('session.create', { agent_id: 'a', goal: 'g' }, T0_US);
    expect(create).toThrow(expect.objectContaining({ code: 'host_id_invalid' }));
    source = () => 'short';
    expect(create).toThrow(expect.objectContaining({ code: 'host_id_invalid' }));
    const boom = new Error('entropy exhausted');
    source = () => {
      throw boom;
    };
    const err = (() => {
      try {
        create();
      } catch (e) {
        return e as CraError;
      }
    })()!;
    expect(err.code).toBe('host_id_invalid');
    expect(err.cause).toBe(boom);
    expect(core.poisoned).toBe(false);
    const good = testIds('b0000000');
    source = good;
    const r = create();
    expect(r.session.session_id).toMatch(/^b0000000-0000-7000-8000-/);
  });

  it('a trap poisons the instance: the call and every later call throw core_failure', async () => {
    const core = await make({ fault: { op: 'runtime.stats', kind: 'trap-before' } });
    expect(() => core.call('runtime.stats', {}, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/trapped in runtime.stats/) }));
    expect(core.poisoned).toBe(true);
    expect(() => core.call('runtime.stats', {}, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/must be rebuilt/) }));
    expect(() => core.check(0, 0, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure' }));
  });

  const garbage: Array<[string, Fault]> = [
    ['text that is not JSON', { op: 'runtime.stats', kind: 'answer', text: 'Segmentation fault' }],
    ['bytes that are not UTF-8', { op: 'runtime.stats', kind: 'answer', text: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }],
    ['JSON that is not an envelope', { op: 'runtime.stats', kind: 'answer', text: '{"result":1}' }],
    ['an envelope with extra keys', { op: 'runtime.stats', kind: 'answer', text: '{"ok":{},"error":null}' }],
    ['an error without a code', { op: 'runtime.stats', kind: 'answer', text: '{"error":{"message":"x"}}' }],
    ['an error with a bad path', { op: 'runtime.stats', kind: 'answer', text: '{"error":{"code":"invalid_request","message":"x","path":7}}' }],
    ['an array', { op: 'runtime.stats', kind: 'answer', text: '[{"ok":1}]' }],
    ['a null result pointer', { op: 'runtime.stats', kind: 'pointer', value: 0 }],
    ['a pointer outside memory', { op: 'runtime.stats', kind: 'pointer', value: 0x7ffffff0 }],
  ];
  for (const [what, fault] of garbage) {
    it(`answering ${what} poisons the instance`, async () => {
      const core = await make({ fault });
      expect(() => core.call('runtime.stats', {}, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/garbage/) }));
      expect(core.poisoned).toBe(true);
    });
  }

  it('a result length running past memory poisons the instance', async () => {
    const core = await Core.instantiate(await compileCore(), {
      ids: testIds(),
      instrument: (ex) => ({
        ...ex,
        memory: ex.memory,
        cra_call: (...args) => {
          const ptr = ex.cra_call(...args);
          new DataView(ex.memory.buffer).setUint32(ptr, 0x7fffffff, true); // corrupt the length prefix
          return ptr;
        },
      }),
    });
    expect(() => core.call('runtime.stats', {}, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/runs past memory/) }));
    expect(core.poisoned).toBe(true);
  });

  it('check answers only known result codes; anything else poisons', async () => {
    const core = await make({ fault: { op: 'check', kind: 'pointer', value: 42 } });
    expect(() => core.check(1, 1, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/not a result code/) }));
    expect(core.poisoned).toBe(true);
    const fresh = await make();
    expect(fresh.check(9999, 9999, T0_US)).toBe(7); // unknown session handle
  });

  it('a trap in check throws instead of answering', async () => {
    const core = await make({ fault: { op: 'check', kind: 'trap-before' } });
    expect(() => core.check(1, 1, T0_US)).toThrow(expect.objectContaining({ code: 'core_failure', message: expect.stringMatching(/trapped in check/) }));
  });
});

describe('Core.call input encoding', () => {
  it('carries multi-byte text intact, encoded into the core buffer (small input) or to its size first (large)', async () => {
    const core = await Core.instantiate(await compileCore(undefined), { ids: testIds() });
    for (const text of ['é€😀'.repeat(1_000), 'é€😀'.repeat(40_000)]) {
      const out = core.call<{ canonical: string; sha256: string }>('canonical.hash', { value: text }, T0_US);
      expect(out.canonical).toBe(JSON.stringify(text));
      expect(out.sha256).toBe(createHash('sha256').update(JSON.stringify(text)).digest('hex'));
    }
  });
});

/**
 * Loading the core in a browser and its error paths: a missing or broken module never yields a runtime
 * (`core_unavailable`), a failed load is forgotten so that a retry can succeed, and a module that is not a CRA
 * core is refused. (Trap handling and rebuilds run in `sdk/src/runtime/failclosed.test.ts`, also in Chromium.)
 */
import { describe, expect, it } from 'vitest';
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { compileCore, createRuntime, CraError, defaultCoreUrl } from '../../src/index.ts';
import { CORE_EXPORTS } from '../../src/abi.ts';
import { STUB_CORE, TRAP_MODULE } from './helpers.ts';

const exportsOf = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name);

describe('loading the core in Chromium', () => {
  it('the default URL is the module beside load.ts, served over http', async () => {
    expect(defaultCoreUrl().protocol).toBe('http:');
    expect(defaultCoreUrl().pathname).toMatch(/\/sdk\/src\/runtime\/cra_core\.wasm$/);
    const res = await fetch(wasmUrl);
    expect(res.headers.get('content-type')).toMatch(/^application\/wasm/);
    const names = exportsOf(await compileCore(wasmUrl));
    for (const name of CORE_EXPORTS) expect(names).toContain(name);
  });

  it('compiles each source once and shares it', async () => {
    expect(compileCore(wasmUrl)).toBe(compileCore(new URL(wasmUrl, location.href)));
    const bytes = STUB_CORE.slice();
    expect(compileCore(bytes)).toBe(compileCore(bytes));
  });

  it('a missing module fails with core_unavailable and no runtime', async () => {
    const missing = new URL('/no/such/cra_core.wasm', location.href);
    await expect(compileCore(missing)).rejects.toMatchObject({ code: 'core_unavailable', message: /HTTP 404/ });
    const err = await createRuntime({ wasm: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CraError);
    expect(err).toMatchObject({ code: 'core_unavailable', status: 500 });
  });

  it('bytes that are not WebAssembly, and sources of no known kind, fail with core_unavailable', async () => {
    await expect(compileCore(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: 'core_unavailable' });
    await expect(compileCore(new Response('not wasm', { headers: { 'content-type': 'application/wasm' } }))).rejects.toMatchObject({
      code: 'core_unavailable',
    });
    await expect(compileCore(42 as never)).rejects.toMatchObject({ code: 'core_unavailable' });
    await expect(createRuntime({ wasm: new Uint8Array([0, 0x61, 0x73, 0x6d]) })).rejects.toMatchObject({ code: 'core_unavailable' });
  });

  it('a module that is not a CRA core is refused', async () => {
    await expect(createRuntime({ wasm: new WebAssembly.Module(TRAP_MODULE) })).rejects.toMatchObject({
      code: 'core_unavailable',
      message: expect.stringMatching(/export memory, cra_alloc, cra_free, cra_call, cra_check, cra_abi_version is missing/),
    });
  });

  it('a failed fetch is forgotten: the next attempt fetches again', async () => {
    let calls = 0;
    const flaky = () => {
      calls++;
      return calls === 1 ? Promise.resolve(new Response('busy', { status: 503 })) : fetch(wasmUrl);
    };
    // A promise of a Response is keyed by the promise object: each call brings its own.
    await expect(compileCore(flaky())).rejects.toMatchObject({ code: 'core_unavailable', message: /HTTP 503/ });
    expect(exportsOf(await compileCore(flaky()))).toContain('cra_call');
    expect(calls).toBe(2);
  });

  it('errors of the core reach the page as CraError with code, path and status', async () => {
    const rt = await createRuntime({ wasm: wasmUrl });
    try {
      const err = await rt.loadAtlas({ manifest: { atlas_version: '1.0' } as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CraError);
      expect(err).toMatchObject({ code: 'atlas_invalid', status: 400 });
      expect(typeof (err as CraError).path).toBe('string');
      await expect(rt.getSession('00000000-0000-0000-0000-00000000ffff')).rejects.toMatchObject({ code: 'session_not_found', status: 404 });
    } finally {
      await rt.close();
    }
  });
});

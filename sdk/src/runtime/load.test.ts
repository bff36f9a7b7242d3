import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUB_CORE, tempDir } from '../../test/helpers.ts';
import { CORE_EXPORTS } from '../abi.ts';
import { compileCore, defaultCoreUrl } from './load.ts';

const exportsOf = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name);

describe('compileCore', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let flaky = true;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    server = createServer((req, res) => {
      if (req.url === '/core.wasm') {
        res.writeHead(200, { 'content-type': 'application/wasm' }).end(Buffer.from(STUB_CORE));
      } else if (req.url === '/octet.wasm') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(STUB_CORE));
      } else if (req.url === '/flaky.wasm' && !flaky) {
        res.writeHead(200, { 'content-type': 'application/wasm' }).end(Buffer.from(STUB_CORE));
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  it('compiles bytes: ArrayBuffer and typed-array views (with an offset)', async () => {
    expect(exportsOf(await compileCore(STUB_CORE.slice().buffer))).toEqual([...CORE_EXPORTS]);
    const padded = new Uint8Array(STUB_CORE.length + 16);
    padded.set(STUB_CORE, 8);
    expect(exportsOf(await compileCore(padded.subarray(8, 8 + STUB_CORE.length)))).toEqual([...CORE_EXPORTS]);
  });

  it('uses a WebAssembly.Module as is (edge workers import .wasm as a module)', async () => {
    const mod = new WebAssembly.Module(STUB_CORE);
    expect(await compileCore(mod)).toBe(mod);
  });

  it('compiles each source once and shares the result', async () => {
    const bytes = STUB_CORE.slice();
    const a = compileCore(bytes);
    const b = compileCore(bytes);
    expect(a).toBe(b);
    expect(await a).toBe(await b);
    expect(compileCore(`${base}/core.wasm`)).toBe(compileCore(new URL(`${base}/core.wasm`)));
  });

  it('reads file: URLs from disk (Node fetch cannot)', async () => {
    const path = join(dir, 'core.wasm');
    await writeFile(path, STUB_CORE);
    expect(exportsOf(await compileCore(pathToFileURL(path)))).toEqual([...CORE_EXPORTS]);
    expect(exportsOf(await compileCore(pathToFileURL(path).href))).toEqual([...CORE_EXPORTS]);
  });

  it('fetches http URLs, streaming when the media type allows it', async () => {
    expect(exportsOf(await compileCore(`${base}/core.wasm`))).toEqual([...CORE_EXPORTS]);
    expect(exportsOf(await compileCore(new URL(`${base}/octet.wasm`)))).toEqual([...CORE_EXPORTS]);
  });

  it('takes a Response or a promise of one', async () => {
    expect(exportsOf(await compileCore(await fetch(`${base}/core.wasm`)))).toEqual([...CORE_EXPORTS]);
    expect(exportsOf(await compileCore(fetch(`${base}/octet.wasm`)))).toEqual([...CORE_EXPORTS]);
    expect(exportsOf(await compileCore(new Response(STUB_CORE)))).toEqual([...CORE_EXPORTS]);
  });

  it('fails with core_unavailable, and forgets the failure so that a retry can succeed', async () => {
    await expect(compileCore(`${base}/missing.wasm`)).rejects.toMatchObject({ code: 'core_unavailable', message: /HTTP 404/ });
    await expect(compileCore(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: 'core_unavailable' });
    await expect(compileCore(pathToFileURL(join(dir, 'absent.wasm')))).rejects.toMatchObject({ code: 'core_unavailable' });
    await expect(compileCore(`${base}/flaky.wasm`)).rejects.toMatchObject({ code: 'core_unavailable' });
    flaky = false;
    expect(exportsOf(await compileCore(`${base}/flaky.wasm`))).toEqual([...CORE_EXPORTS]);
    await expect(compileCore(42 as never)).rejects.toMatchObject({ code: 'core_unavailable' });
  });

  it('by default loads the core shipped beside the loader', async () => {
    expect(defaultCoreUrl().href).toMatch(/\/sdk\/src\/runtime\/cra_core\.wasm$/);
    const first = compileCore();
    expect(compileCore()).toBe(first);
    const names = exportsOf(await first);
    for (const name of ['memory', 'cra_alloc', 'cra_free', 'cra_call', 'cra_check']) expect(names).toContain(name);
    const imports = WebAssembly.Module.imports(await first).map((i) => `${i.module}.${i.name}`).sort();
    expect(imports).toEqual(['env.cra_host_ids', 'env.cra_host_tz_offset']);
  });
});

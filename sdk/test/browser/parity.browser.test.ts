/**
 * Chromium's run of the parity scenario: whatever way the page hands the core to the SDK, the scenario must
 * reproduce the committed `expected.trace.jsonl` byte for byte (Node's run is `../parity/parity.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import wasmUrl from '../../src/runtime/cra_core.wasm?url';
import { createRuntime, fromJsonl, verifyTrace, type CoreSource } from '../../src/index.ts';
import expected from '../parity/expected.trace.jsonl?raw';
import { parityHost, runParityScenario } from '../parity/scenario.ts';
import { supportAtlas } from './helpers.ts';

describe('the browser suites run in Chromium', () => {
  it('is a real Chromium page, not Node', () => {
    expect(navigator.userAgent).toMatch(/Chrome\/\d+/);
    expect(typeof document.createElement).toBe('function');
    expect((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node).toBeUndefined();
    expect(location.protocol).toBe('http:');
  });
});

describe('parity scenario (Chromium)', () => {
  const sources: Array<[string, () => Promise<CoreSource | undefined>]> = [
    ['a URL string from `?url`', async () => wasmUrl],
    ['an absolute URL', async () => new URL(wasmUrl, location.href)],
    ['a fetch() promise (compileStreaming)', async () => fetch(wasmUrl)],
    ['bytes', async () => (await fetch(wasmUrl)).arrayBuffer()],
    ['a compiled WebAssembly.Module', async () => WebAssembly.compileStreaming(fetch(wasmUrl))],
    ['nothing: the default new URL("./cra_core.wasm", import.meta.url) beside load.ts', async () => undefined],
  ];

  for (const [what, source] of sources) {
    it(`gives the committed trace byte for byte, the core given as ${what}`, async () => {
      const wasm = await source();
      const runtime = await createRuntime({ ...parityHost(), ...(wasm === undefined ? {} : { wasm }) });
      try {
        const jsonl = await runParityScenario(runtime, supportAtlas());
        expect(jsonl).toBe(expected);
        const events = await fromJsonl(jsonl);
        expect(await verifyTrace(events)).toEqual({ valid: true, length: events.length, head_hash: events.at(-1)!.event_hash });
        expect(events.map((e) => e.event_type)).toContain('policy.violated');
      } finally {
        await runtime.close();
      }
    });
  }
});

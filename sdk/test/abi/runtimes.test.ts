/** The ABI version check in Node (here), Deno (the `deno` binary of the dev dependencies) and workerd (Miniflare). */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { reportFromDeno, reportFromWorkerd } from '../../../test/support/scenarios.ts';
import { OTHER_VERSION_CORE, UNVERSIONED_CORE } from '../portable.ts';
import { expectAbiReport } from './expectations.ts';
import { type AbiReport, runAbiScenario } from './scenario.ts';

describe('ABI version check in every runtime', () => {
  it('Node', async () => {
    expectAbiReport(await runAbiScenario({ otherVersion: OTHER_VERSION_CORE, unversioned: UNVERSIONED_CORE }));
  });

  it('the module files workerd loads hold the same bytes as the hand-made cores', async () => {
    expect(new Uint8Array(await readFile(new URL('other-version.wasm', import.meta.url)))).toEqual(OTHER_VERSION_CORE);
    expect(new Uint8Array(await readFile(new URL('unversioned.wasm', import.meta.url)))).toEqual(UNVERSIONED_CORE);
  });

  it('Deno', async () => {
    expectAbiReport(await reportFromDeno<AbiReport>(new URL('deno.ts', import.meta.url)));
  }, 60_000);

  it('workerd', async () => {
    expectAbiReport(await reportFromWorkerd<AbiReport>(new URL('worker.ts', import.meta.url)));
  }, 60_000);
});

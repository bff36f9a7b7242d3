/**
 * The ABI version check, the same in every runtime (Node, Deno, workerd, Chromium): the module shipped with the SDK
 * is accepted; a module that implements another ABI version, or predates versioning, is refused with a
 * `core_unavailable` CraError that says why. The foreign modules are the hand-made cores of `../portable.ts`; each
 * runtime hands them over in its own way (bytes, or modules bundled beside a worker).
 */
import { ABI_VERSION, compileCore, CraError, createRuntime, type CoreSource } from '../../src/index.ts';

export interface AbiSources {
  /** The module shipped with the SDK, as this runtime names it (default: the SDK's own default). */
  shipped?: CoreSource;
  otherVersion: CoreSource;
  unversioned: CoreSource;
}

export interface AbiReport {
  abiVersion: number;
  /** What the shipped module answered: `ok`, or the error. */
  shipped: string;
  otherVersion: { compiled: boolean; code: string; message: string };
  unversioned: { code: string; message: string };
}

async function refusal(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (err) {
    return err instanceof CraError ? { code: err.code, message: err.message } : { code: `not a CraError: ${String(err)}`, message: '' };
  }
  return { code: 'accepted', message: '' };
}

export async function runAbiScenario(sources: AbiSources): Promise<AbiReport> {
  const current = await refusal(async () => (await createRuntime(sources.shipped === undefined ? {} : { wasm: sources.shipped })).close());
  const compiled = await compileCore(sources.otherVersion).then(
    () => true,
    () => false,
  );
  return {
    abiVersion: ABI_VERSION,
    shipped: current.code === 'accepted' ? 'ok' : `${current.code}: ${current.message}`,
    otherVersion: { compiled, ...(await refusal(() => createRuntime({ wasm: sources.otherVersion }))) },
    unversioned: await refusal(() => compileCore(sources.unversioned)),
  };
}

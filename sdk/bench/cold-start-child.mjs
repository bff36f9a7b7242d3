/**
 * One cold start, for ./cold-start.ts: plain JavaScript, so that a child on the built package runs on plain `node`
 * with no loader on its imports (tsx's hooks alone cost several times the package's own import). It imports the SDK
 * entry it is given, times the steps and prints one JSON line (`ColdStart` of ./cold-start.ts, less `from`).
 *
 *   node sdk/bench/cold-start-child.mjs <entry URL> <atlas folder> [--atlas]
 */

const [entry, atlasDir] = process.argv.slice(2);
const t0 = performance.now();
const sdk = await import(entry);
const t1 = performance.now();
let result;
let rt;
if (process.argv.includes('--atlas')) {
  rt = await sdk.createRuntime({ atlases: [await sdk.loadAtlasDir(atlasDir)] });
  result = { import_ms: t1 - t0, create_runtime_ms: performance.now() - t1 };
} else {
  await sdk.compileCore(); // what createRuntime() awaits first; it reuses this compilation
  const tCore = performance.now();
  rt = await sdk.createRuntime();
  const tRuntime = performance.now();
  await rt.loadAtlas(await sdk.loadAtlasDir(atlasDir));
  const tAtlas = performance.now();
  const [core, configure] = [tCore - t1, tRuntime - tCore];
  result = { import_ms: t1 - t0, create_runtime_ms: core + configure, core_ms: core, configure_ms: configure, atlas_ms: tAtlas - tRuntime };
}
const t2 = performance.now();
const session = await rt.createSession({ agentId: 'bench', goal: 'cold start' });
await session.resolve();
const answer = await session.check('ticket.lookup');
const t3 = performance.now();
if (!answer.allowed) throw new Error('cold start: unexpected check answer');
await rt.close();
process.stdout.write(JSON.stringify({ ...result, first_check_ms: t3 - t2, total_ms: t3 - t0 }));

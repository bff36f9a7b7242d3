#!/usr/bin/env node
// Builds the Rust core (wasm/) into sdk/src/runtime/cra_core.wasm.
//
//   node scripts/build-wasm.mjs            build, optimise, write sdk/src/runtime/cra_core.wasm
//   node scripts/build-wasm.mjs --check    build, optimise, compare with the committed file (exit 1 if different)
//   --debian (or CRA_DEBIAN_RUST=1)        use Debian 12's rustc 1.63 and packaged crates (see rust-toolchain.mjs)
//
// Steps: `cargo build --release --target wasm32-unknown-unknown` (target dir wasm/target), then binaryen's
// `wasm-opt -Os --strip-debug --strip-producers --strip-target-features` (npm `binaryen`, pinned in package.json),
// then a check of the module's exports and imports against the ABI contract (wasm/abi.json). The output depends
// only on the sources, the toolchain and the crate versions, not on where the checkout lives: source paths are
// remapped (--remap-path-prefix) and RUSTFLAGS from the environment are ignored. The committed artifact is built with the
// Debian toolchain; another rustc or other crate versions give other bytes.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CRATE_DIR, DEBIAN_REGISTRY, ROOT, WASM_TARGET,
  fail, rel, requireWasmStd, rustcVersion, selectLockfile, takeDebianFlag, toolchain,
} from './rust-toolchain.mjs';

const ARTIFACT = join(ROOT, 'sdk', 'src', 'runtime', 'cra_core.wasm');
const WASM_OPT = join(ROOT, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
// -Os: -Oz is 0.7 % smaller raw but 1.2 KB larger gzipped (what a browser downloads); `--converge` saves 250 B more
// for twice the time. `npm run size:wasm` shows what each part of the module costs.
const WASM_OPT_ARGS = ['-Os', '--strip-debug', '--strip-producers', '--strip-target-features'];

// The ABI contract (wasm/abi.json): its exports must exist; imports may only be its host functions of module `env`.
const CONTRACT = JSON.parse(readFileSync(join(CRATE_DIR, 'abi.json'), 'utf8'));
const REQUIRED_EXPORTS = Object.fromEntries(CONTRACT.exports.map((e) => [e.name, e.signature === 'memory' ? 'memory' : 'function']));
const ALLOWED_IMPORTS = new Set(CONTRACT.imports.map((i) => `env.${i.name}`));

const USAGE = `usage: node scripts/build-wasm.mjs [--check] [--debian]
  --check   rebuild and compare with ${rel(ARTIFACT)} instead of writing it
  --debian  use Debian's /usr/bin/rustc and /usr/share/cargo/registry (same as CRA_DEBIAN_RUST=1)`;

const { debian, args } = takeDebianFlag(process.argv.slice(2));
const check = args.includes('--check');
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--check');
if (unknown.length > 0) fail(`unknown argument(s): ${unknown.join(' ')}\n${USAGE}`);
if (!existsSync(WASM_OPT)) fail(`${rel(WASM_OPT)} not found: run \`npm ci\` first`);

const started = Date.now();
const tc = toolchain(debian);
requireWasmStd(tc);
console.error(`toolchain: ${rustcVersion(tc)}${debian ? ` (Debian, crates from ${DEBIAN_REGISTRY})` : ''}`);
selectLockfile(tc);

// ---- cargo build ---------------------------------------------------------------------------------------------

const cargoHome = process.env.CARGO_HOME || join(homedir(), '.cargo');
// rustc applies the last matching prefix: general ones first.
const remaps = [
  [ROOT, '/cra'],
  [join(cargoHome, 'registry', 'src'), '/cargo/registry/src'],
  [join(cargoHome, 'git', 'checkouts'), '/cargo/git/checkouts'],
  [DEBIAN_REGISTRY, '/cargo/registry/debian'],
  [CRATE_DIR, '/cra/wasm'],
];
for (const name of ['RUSTFLAGS', 'CARGO_ENCODED_RUSTFLAGS', `CARGO_TARGET_${WASM_TARGET.toUpperCase().replace(/-/g, '_')}_RUSTFLAGS`]) {
  if (tc.env[name]) console.error(`note: ignoring ${name} (the artifact must not depend on the environment)`);
  delete tc.env[name];
}
// WebAssembly 2.0 features every supported runtime has (Node 20, Deno, workerd, Chromium, Firefox, Safari 15+):
// bulk memory turns memcpy/memset into single instructions; the others avoid emulation sequences for casts.
const WASM_FEATURES = '+bulk-memory,+nontrapping-fptoint,+sign-ext';
tc.env.CARGO_ENCODED_RUSTFLAGS = [
  ...remaps.map(([from, to]) => `--remap-path-prefix=${from}=${to}`),
  `-Ctarget-feature=${WASM_FEATURES}`,
].join('\x1f');
tc.env.CARGO_TERM_COLOR ??= process.stderr.isTTY ? 'always' : 'never';

const cargoArgs = [
  ...tc.configArgs,
  'build', '--release', '--target', WASM_TARGET, '--message-format=json-render-diagnostics',
];
console.error(`$ ${[tc.cargo, ...cargoArgs].map(shellQuote).join(' ')}   (in ${rel(CRATE_DIR)})`);
const t0 = Date.now();
const { code, stdout } = await run(tc.cargo, cargoArgs, { cwd: CRATE_DIR, env: tc.env, captureStdout: true });
if (code !== 0) fail(`cargo build failed (exit ${code})`);
const cargoSeconds = (Date.now() - t0) / 1000;

let raw = null;
for (const line of stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target?.kind?.includes('cdylib')) {
    raw = msg.filenames.find((f) => f.endsWith('.wasm')) ?? raw;
  }
}
if (!raw) fail('cargo reported no .wasm artifact (is crate-type "cdylib" set in wasm/Cargo.toml?)');

// ---- wasm-opt ------------------------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'cra-wasm-'));
const optimised = join(scratch, 'cra_core.wasm');
const t1 = Date.now();
{
  const r = await run(process.execPath, [WASM_OPT, raw, ...WASM_OPT_ARGS, '-o', optimised], { cwd: ROOT, env: process.env });
  if (r.code !== 0) fail(`wasm-opt failed (exit ${r.code})`);
}
const optSeconds = (Date.now() - t1) / 1000;
const bytes = readFileSync(optimised);
rmSync(scratch, { recursive: true, force: true });
checkAbi(bytes);

// ---- write or compare ----------------------------------------------------------------------------------------

const rawSize = readFileSync(raw).length;
const summary = () => {
  console.log(`cargo output   ${fmt(rawSize)}  ${rel(raw)}  (cargo ${cargoSeconds.toFixed(1)} s)`);
  console.log(`wasm-opt       ${fmt(bytes.length)}  (wasm-opt ${optSeconds.toFixed(1)} s)`);
  console.log(`gzip -9        ${fmt(gzipSync(bytes, { level: 9 }).length)}`);
  console.log(`sha256         ${sha256(bytes)}`);
  console.log(`total          ${((Date.now() - started) / 1000).toFixed(1)} s`);
};

if (check) {
  if (!existsSync(ARTIFACT)) {
    summary();
    fail(`${rel(ARTIFACT)} does not exist: run \`npm run build:wasm\` and commit it`);
  }
  const committed = readFileSync(ARTIFACT);
  summary();
  if (Buffer.compare(committed, bytes) !== 0) {
    console.error(
      `error: ${rel(ARTIFACT)} is not what the sources build to\n` +
        `  committed: ${fmt(committed.length)}  sha256 ${sha256(committed)}\n` +
        `  rebuilt:   ${fmt(bytes.length)}  sha256 ${sha256(bytes)}\n` +
        `  rebuild it with \`CRA_DEBIAN_RUST=1 npm run build:wasm\` and commit it` +
        (debian ? '' : `\n  (the committed artifact is built with CRA_DEBIAN_RUST=1; other toolchains give other bytes)`),
    );
    process.exit(1);
  }
  console.log(`${rel(ARTIFACT)} is up to date`);
} else {
  const same = existsSync(ARTIFACT) && Buffer.compare(readFileSync(ARTIFACT), bytes) === 0;
  if (!same) {
    mkdirSync(dirname(ARTIFACT), { recursive: true });
    writeFileSync(ARTIFACT, bytes);
  }
  summary();
  console.log(`${same ? 'unchanged' : 'wrote'}          ${rel(ARTIFACT)}`);
  if (!debian) console.log('note: built without CRA_DEBIAN_RUST=1; `npm run check:wasm` in CI uses the Debian toolchain');
}

// ---- helpers -------------------------------------------------------------------------------------------------

function checkAbi(bytes) {
  let mod;
  try {
    mod = new WebAssembly.Module(bytes);
  } catch (e) {
    fail(`the optimised module does not compile: ${e.message}`);
  }
  const exports = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
  const problems = [];
  for (const [name, kind] of Object.entries(REQUIRED_EXPORTS)) {
    if (exports.get(name) !== kind) problems.push(`missing export ${kind} ${name}`);
  }
  for (const i of WebAssembly.Module.imports(mod)) {
    if (!ALLOWED_IMPORTS.has(`${i.module}.${i.name}`)) problems.push(`unexpected import ${i.module}.${i.name} (${i.kind})`);
  }
  if (problems.length > 0) fail(`the module does not match wasm/abi.json:\n  ${problems.join('\n  ')}`);
}

function run(cmd, argv, { cwd, env, captureStdout = false }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['inherit', captureStdout ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', (e) => fail(`cannot run ${cmd}: ${e.message}`));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: out }));
  });
}

function shellQuote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function sha256(b) {
  return createHash('sha256').update(b).digest('hex');
}

function fmt(n) {
  return `${String(n).padStart(9)} B (${(n / 1024).toFixed(1).padStart(6)} KiB)`;
}

// Shared by build-wasm.mjs and cargo.mjs: which cargo/rustc to run, and how.
//
// Two toolchains are supported:
//
// - default: `cargo` and `rustc` from PATH (rustup, with `rustup target add wasm32-unknown-unknown`) and crates.io.
// - Debian 12 (opt-in with CRA_DEBIAN_RUST=1 or --debian): /usr/bin/cargo, /usr/bin/rustc and /usr/bin/rustdoc
//   (rustc 1.63 with the wasm32 std from `libstd-rust-dev-wasm32`), crates replaced by the packaged sources in
//   /usr/share/cargo/registry. No network is needed. The committed sdk/src/runtime/cra_core.wasm is built this way.
//
// The Debian switch is passed on the command line (`--config`), so nothing in wasm/ changes between the two.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
export const CRATE_DIR = join(ROOT, 'wasm');
export const WASM_TARGET = 'wasm32-unknown-unknown';

export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';
export const DEBIAN_APT_PACKAGES = [
  'rustc', 'cargo', 'libstd-rust-dev-wasm32', 'lld',
  'librust-serde-json-dev', 'librust-serde-derive-dev', 'librust-sha2-dev', 'librust-itoa-dev', 'librust-ryu-dev',
  'rust-clippy',
];

/** Removes `--debian` from `args` (only before a `--`); true when it or CRA_DEBIAN_RUST asks for Debian. */
export function takeDebianFlag(args) {
  let debian = /^(1|true|yes|on)$/i.test(process.env.CRA_DEBIAN_RUST ?? '');
  const out = [];
  let passthrough = false;
  for (const a of args) {
    if (!passthrough && a === '--debian') { debian = true; continue; }
    if (a === '--') passthrough = true;
    out.push(a);
  }
  return { debian, args: out };
}

/**
 * The cargo command, its environment and the `--config` arguments for the chosen toolchain.
 * Exits with a message when the Debian toolchain is asked for but not installed.
 */
export function toolchain(debian) {
  const env = { ...process.env };
  if (!debian) {
    return { debian, cargo: 'cargo', rustc: env.RUSTC || 'rustc', env, configArgs: [] };
  }
  const missing = ['/usr/bin/cargo', '/usr/bin/rustc', '/usr/bin/rustdoc', DEBIAN_REGISTRY].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    fail(
      `CRA_DEBIAN_RUST=1 needs Debian's Rust toolchain; missing: ${missing.join(', ')}\n` +
        `  install it with: apt-get install -y ${DEBIAN_APT_PACKAGES.join(' ')}`,
    );
  }
  env.RUSTC = '/usr/bin/rustc';
  env.RUSTDOC = '/usr/bin/rustdoc';
  // rustup's proxies are first in PATH on many machines; make sure nothing below cargo picks them up.
  delete env.RUSTUP_TOOLCHAIN;
  return {
    debian,
    cargo: '/usr/bin/cargo',
    rustc: '/usr/bin/rustc',
    env,
    configArgs: [
      '--config', 'source.crates-io.replace-with="debian"',
      '--config', `source.debian.directory="${DEBIAN_REGISTRY}"`,
    ],
  };
}

/** The Rust version string of a toolchain, e.g. "rustc 1.63.0". */
export function rustcVersion(tc) {
  const r = spawnSync(tc.rustc, ['--version'], { env: tc.env, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fail(`cannot run ${tc.rustc}: ${r.error?.message ?? r.stderr.trim()}\n` + toolchainHint(tc));
  }
  return r.stdout.trim();
}

/** Exits with a clear message when the toolchain's rustc has no standard library for wasm32-unknown-unknown. */
export function requireWasmStd(tc) {
  const r = spawnSync(tc.rustc, ['--print', 'target-libdir', '--target', WASM_TARGET], { env: tc.env, encoding: 'utf8' });
  const dir = r.status === 0 ? r.stdout.trim() : '';
  const hasStd = dir !== '' && existsSync(dir) && readdirSync(dir).some((f) => /^libcore-.*\.rlib$/.test(f));
  if (!hasStd) {
    fail(`${rustcVersion(tc)} (${tc.rustc}) has no standard library for ${WASM_TARGET}.\n` + toolchainHint(tc));
  }
}

function toolchainHint(tc) {
  if (tc.debian) {
    return `  install Debian's toolchain with: apt-get install -y ${DEBIAN_APT_PACKAGES.join(' ')}`;
  }
  const debianHasWasm = existsSync(`/usr/lib/rustlib/${WASM_TARGET}/lib`) && existsSync(DEBIAN_REGISTRY);
  return (
    `  with rustup: rustup target add ${WASM_TARGET}\n` +
    (debianHasWasm
      ? `  Debian's rustc on this machine has it: run with CRA_DEBIAN_RUST=1 (or --debian)`
      : `  on Debian 12: apt-get install -y ${DEBIAN_APT_PACKAGES.join(' ')}, then run with CRA_DEBIAN_RUST=1`)
  );
}

/**
 * wasm/Cargo.lock is not committed, and a lockfile from one source does not work with the other (crates.io has
 * versions Debian does not package; locks made against the Debian directory carry placeholder checksums). Each
 * toolchain keeps its own: the other one's is parked in wasm/target/ and put back when that toolchain runs again.
 */
export function selectLockfile(tc) {
  const lock = join(CRATE_DIR, 'Cargo.lock');
  const parkDir = join(CRATE_DIR, 'target');
  const marker = join(parkDir, 'cra-lockfile-source');
  const want = tc.debian ? 'debian' : 'crates-io';
  const parked = (source) => join(parkDir, `Cargo.lock.${source}`);

  let current = null;
  if (existsSync(lock)) {
    current = existsSync(marker)
      ? readFileSync(marker, 'utf8').trim()
      : readFileSync(lock, 'utf8').includes('Could not get crate checksum')
        ? 'debian'
        : 'crates-io';
  }
  mkdirSync(parkDir, { recursive: true });
  if (current !== null && current !== want) {
    renameSync(lock, parked(current));
    console.error(`note: parked the ${current} Cargo.lock as ${rel(parked(current))}`);
  }
  if (!existsSync(lock) && existsSync(parked(want))) {
    renameSync(parked(want), lock);
    console.error(`note: restored the ${want} Cargo.lock from ${rel(parked(want))}`);
  }
  writeFileSync(marker, `${want}\n`);
}

export function rel(p) {
  return p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p;
}

export function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

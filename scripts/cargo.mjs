#!/usr/bin/env node
// Runs cargo in wasm/ for the host target, e.g. `node scripts/cargo.mjs test` (npm run test:rust) or
// `node scripts/cargo.mjs clippy --lib -- -D clippy::unwrap_used` (npm run lint:rust).
//
//   node scripts/cargo.mjs <cargo arguments…>
//   --debian (or CRA_DEBIAN_RUST=1)   use Debian 12's /usr/bin/cargo, rustc 1.63 and packaged crates
//
// Output goes straight to the terminal; the exit code is cargo's.
//
// `clippy` with the Debian toolchain: cargo does not pass its `--config` (the packaged crates) on to an external
// subcommand such as `cargo-clippy`, which then looks for crates.io. So the script does what cargo-clippy does,
// with the configuration kept: `cargo check` with Debian's clippy-driver (apt package `rust-clippy`) as the
// workspace rustc wrapper, the lint arguments after `--` in CLIPPY_ARGS, and Debian's sysroot.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CRATE_DIR, fail, rel, rustcVersion, selectLockfile, takeDebianFlag, toolchain } from './rust-toolchain.mjs';

const DEBIAN_CLIPPY_DRIVER = '/usr/bin/clippy-driver';

const { debian, args } = takeDebianFlag(process.argv.slice(2));
if (args.length === 0 || args[0] === '--help' || args[0] === '-h') {
  console.log('usage: node scripts/cargo.mjs [--debian] <cargo subcommand> [arguments…]   (runs in wasm/)');
  process.exit(args.length === 0 ? 1 : 0);
}

const tc = toolchain(debian);
console.error(`toolchain: ${rustcVersion(tc)}${debian ? ' (Debian)' : ''}`);
selectLockfile(tc);

// `cargo +toolchain …` must keep the toolchain first.
const lead = args[0].startsWith('+') ? [args.shift()] : [];
if (debian && args[0] === 'clippy') {
  if (!existsSync(DEBIAN_CLIPPY_DRIVER)) {
    fail(`clippy with CRA_DEBIAN_RUST=1 needs Debian's clippy: ${DEBIAN_CLIPPY_DRIVER} is missing\n  install it with: apt-get install -y rust-clippy`);
  }
  const dashes = args.indexOf('--');
  const lintArgs = dashes === -1 ? [] : args.slice(dashes + 1);
  args.splice(0, 1, 'check');
  if (dashes !== -1) args.splice(dashes);
  tc.env.RUSTC_WORKSPACE_WRAPPER = DEBIAN_CLIPPY_DRIVER;
  tc.env.CLIPPY_ARGS = lintArgs.map((a) => `${a}__CLIPPY_HACKERY__`).join('');
  // clippy-driver finds its sysroot through the first `rustc` in PATH (often rustup's): point it at Debian's.
  tc.env.SYSROOT = '/usr';
  // Cargo caches the wrapper's answers to its target probes without CLIPPY_ARGS in the key, failures included.
  tc.env.CARGO_CACHE_RUSTC_INFO = '0';
  console.error(`clippy: ${DEBIAN_CLIPPY_DRIVER} as the rustc wrapper of \`cargo check\`, lints: ${lintArgs.join(' ') || '(defaults)'}`);
}
const argv = [...lead, ...tc.configArgs, ...args];
console.error(`$ ${tc.cargo} ${argv.join(' ')}   (in ${rel(CRATE_DIR)})`);

const child = spawn(tc.cargo, argv, { cwd: CRATE_DIR, env: tc.env, stdio: 'inherit' });
// Ctrl-C reaches cargo through the terminal's process group; wait for it to finish rather than dying first.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => fail(`cannot run ${tc.cargo}: ${e.message}`));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));

#!/usr/bin/env node
// Runs cargo in wasm/ for the host target, e.g. `node scripts/cargo.mjs test` (npm run test:rust).
//
//   node scripts/cargo.mjs <cargo arguments…>
//   --debian (or CRA_DEBIAN_RUST=1)   use Debian 12's /usr/bin/cargo, rustc 1.63 and packaged crates
//
// Output goes straight to the terminal; the exit code is cargo's.

import { spawn } from 'node:child_process';
import { CRATE_DIR, fail, rel, rustcVersion, selectLockfile, takeDebianFlag, toolchain } from './rust-toolchain.mjs';

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
const argv = [...lead, ...tc.configArgs, ...args];
console.error(`$ ${tc.cargo} ${argv.join(' ')}   (in ${rel(CRATE_DIR)})`);

const child = spawn(tc.cargo, argv, { cwd: CRATE_DIR, env: tc.env, stdio: 'inherit' });
// Ctrl-C reaches cargo through the terminal's process group; wait for it to finish rather than dying first.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => fail(`cannot run ${tc.cargo}: ${e.message}`));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));

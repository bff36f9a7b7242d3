#!/usr/bin/env node
/**
 * Runs the Python client's tests against the real server: starts the built server (`dist/server-main.node.js`,
 * plain node) on a free loopback port with a temporary data folder, known API keys and a fresh checkpoint signing key
 * (`CRA_SIGNING_KEY`, made by the built SDK's `generateSigningKey`), runs
 * `python3 -m unittest discover -s clients/python/tests -v` with `CRA_URL` / `CRA_API_KEY` (and a second key, an
 * admin key and the server's verifier key, `CRA_CHECKPOINT_KEY`) in its environment, stops the server, and prints a
 * last line `N passed, N failed`. Exits non-zero when a test failed or the run could not happen. `PYTHON` names
 * another interpreter (3.9 or newer).
 *
 * Usage, from anywhere: `node clients/python/run_tests.mjs`
 */

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const serverMain = join(root, 'dist', 'server-main.node.js');
const python = process.env.PYTHON || 'python3';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Fresh random keys for this run (long enough that the server does not warn about them). */
const key = (name) => `cra_${name}_${randomBytes(16).toString('hex')}`;
const keys = { user: key('py'), other: key('py2'), admin: key('pyadmin') };

function finish(passed, failed, code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

if (!existsSync(serverMain)) {
  console.log('dist/server-main.node.js is missing: npm run build');
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('the build failed');
    finish(0, 1, 1);
  }
}

// The server signs checkpoints only with a key; the tests check them with its verifier key, offline.
const { generateSigningKey } = await import(pathToFileURL(join(root, 'dist', 'index.node.js')).href);
const signing = await generateSigningKey('cra.python.test');

const dataDir = mkdtempSync(join(tmpdir(), 'cra-python-'));
const server = spawn(process.execPath, [serverMain], {
  cwd: root,
  env: {
    ...process.env,
    CRA_PORT: '0',
    CRA_HOST: '127.0.0.1',
    CRA_DATA_DIR: dataDir,
    CRA_ATLAS_DIR: join(root, 'examples', 'atlases'),
    CRA_AUTH: 'on',
    CRA_API_KEYS: `${keys.user},${keys.other}`,
    CRA_ADMIN_KEYS: keys.admin,
    CRA_RATE_LIMIT: '',
    CRA_SIGNING_KEY: signing.signer,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverLog = '';
server.stderr.on('data', (chunk) => (serverLog += chunk));
const exited = new Promise((done) => server.once('exit', (code, signal) => done({ code, signal })));

/** The URL the server prints once it listens (`CRA server listening on http://127.0.0.1:<port>`). */
function listening() {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    server.stdout.on('data', (chunk) => {
      serverLog += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(serverLog);
      if (m) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`the server exited at start (${signal ?? code})`));
    });
  });
}

async function stopServer() {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/** `N passed, N failed` from unittest's summary (`Ran N tests`, then `OK (...)` or `FAILED (...)`). */
function counts(output, status) {
  const ran = Number(/^Ran (\d+) tests?/m.exec(output)?.[1] ?? NaN);
  const count = (name) => Number(new RegExp(`[(, ]${name}=(\\d+)`).exec(output.slice(output.lastIndexOf('\nRan ')))?.[1] ?? 0);
  if (!Number.isInteger(ran)) return { passed: 0, failed: 1 };
  const failed = count('failures') + count('errors') + count('unexpected successes');
  const passed = ran - failed - count('skipped') - count('expected failures');
  // A non-zero exit with no failure counted (e.g. no test found) is still a failure.
  return { passed, failed: status !== 0 && failed === 0 ? 1 : failed };
}

let url;
try {
  url = await listening();
} catch (err) {
  console.error(`${err.message}\n${serverLog}`);
  await stopServer();
  finish(0, 1, 1);
}

const tests = spawn(python, ['-m', 'unittest', 'discover', '-s', join('clients', 'python', 'tests'), '-v'], {
  cwd: root,
  env: {
    ...process.env,
    PYTHONPATH: [here, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONDONTWRITEBYTECODE: '1',
    CRA_URL: url,
    CRA_API_KEY: keys.user,
    CRA_API_KEY_2: keys.other,
    CRA_ADMIN_KEY: keys.admin,
    CRA_CHECKPOINT_KEY: signing.verifier,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
tests.stdout.on('data', (chunk) => process.stdout.write(chunk));
tests.stderr.on('data', (chunk) => {
  output += chunk;
  process.stderr.write(chunk);
});
const onSignal = () => tests.kill('SIGTERM');
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
const status = await new Promise((done) => {
  tests.once('error', (err) => {
    console.error(`cannot run ${python}: ${err.message}`);
    done(1);
  });
  tests.once('exit', (code) => done(code ?? 1));
});
await stopServer();
const { passed, failed } = counts(output, status);
finish(passed, failed, status === 0 && failed === 0 ? 0 : 1);

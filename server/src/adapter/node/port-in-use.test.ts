/**
 * A port already taken stops the server with one line naming the variable to change — in process (`startServer`
 * rejects with `invalid_request` at `/CRA_PORT`, and nothing is left open) and as `npm start`'s program (exit 1, one
 * line on stderr, no stack trace). The port is really taken: a listener of this test holds it.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../sdk/test/helpers.ts';
import { parseConfig } from '../../config.ts';
import { ROOT } from '../../testing.ts';
import { startFailure } from '../process.ts';
import { startServer } from './index.ts';

describe('a port in use', () => {
  let holder: Server;
  let port: number;
  let data: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    data = await tempDir();
    holder = createServer();
    await new Promise<void>((ok) => holder.listen(0, '127.0.0.1', ok));
    port = (holder.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((done) => holder.close(done));
    await data.cleanup();
  });

  it('fails startServer with the setting to change, for the API port and the metrics port', async () => {
    const base = { CRA_API_KEYS: 'test-key-port-0123456789', CRA_LOG_FORMAT: 'off' };
    const api = startServer({ ...parseConfig({ ...base, CRA_PORT: String(port) }), dataDir: data.dir }, { log: () => undefined });
    await expect(api).rejects.toMatchObject({ code: 'invalid_request', path: '/CRA_PORT', message: `port ${port} is in use (EADDRINUSE): set CRA_PORT to another port` });
    expect(startFailure(await api.catch((e: unknown) => e))).toBe(
      `CRA server failed to start: invalid_request: port ${port} is in use (EADDRINUSE): set CRA_PORT to another port`,
    );
    const metrics = startServer({ ...parseConfig({ ...base, CRA_PORT: '0', CRA_METRICS_PORT: String(port) }), dataDir: data.dir }, { log: () => undefined });
    await expect(metrics).rejects.toMatchObject({ path: '/CRA_METRICS_PORT', message: `port ${port} is in use (EADDRINUSE): set CRA_METRICS_PORT to another port` });
    // Nothing was left open: the same data folder starts a server at once.
    const again = await startServer({ ...parseConfig({ ...base, CRA_PORT: '0' }), dataDir: data.dir }, { log: () => undefined });
    await again.close();
  });

  it('stops the server program with exit 1 and one line on stderr', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/adapter/node/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, CRA_PORT: String(port), CRA_HOST: '127.0.0.1', CRA_DATA_DIR: data.dir, CRA_API_KEYS: 'test-key-port-0123456789' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(code).toBe(1);
    expect(stderr).toBe(`CRA server failed to start: invalid_request: port ${port} is in use (EADDRINUSE): set CRA_PORT to another port\n`);
  }, 30_000);
});

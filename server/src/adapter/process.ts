/**
 * A server as a process (`npm start`, `deno run`): the same graceful stop on SIGINT / SIGTERM and the same one-line
 * failure at start, whatever the runtime's API for signals and exit.
 *
 * @module
 */

import { CraError } from '../../../sdk/src/errors.ts';

export interface ProcessApi {
  onSignal(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
  log(line: string): void;
}

/** On the first SIGINT / SIGTERM: `close()`, then exit 0 (`stopped`), or 1 when closing failed. */
export function stopOnSignals(api: ProcessApi, close: () => Promise<unknown>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    api.log(`${signal}: shutting down`);
    close()
      .then(() => {
        api.log('stopped');
        api.exit(0);
      })
      .catch((err: unknown) => {
        console.error('shutdown failed:', err);
        api.exit(1);
      });
  };
  api.onSignal('SIGINT', () => stop('SIGINT'));
  api.onSignal('SIGTERM', () => stop('SIGTERM'));
}

/** Where a listener was asked to bind, and the variables that set it. */
export interface BindTarget {
  port: number;
  host: string;
  portVariable: string;
  hostVariable: string;
}

/**
 * A listener that could not bind, as the setting to change (`invalid_request` at the variable), whatever the runtime:
 * Node's `EADDRINUSE` / `EACCES` / `EADDRNOTAVAIL`, Deno's `AddrInUse` / `PermissionDenied` / `AddrNotAvailable`.
 * Any other error is answered unchanged.
 */
export function bindFailure(err: unknown, at: BindTarget): unknown {
  const e = err as { code?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const name = typeof e?.name === 'string' ? e.name : '';
  const port = `/${at.portVariable}`;
  if (code === 'EADDRINUSE' || name === 'AddrInUse') {
    return new CraError('invalid_request', `port ${at.port} is in use (EADDRINUSE): set ${at.portVariable} to another port`, { path: port, cause: err });
  }
  if (code === 'EACCES' || name === 'PermissionDenied') {
    return new CraError('invalid_request', `port ${at.port} needs privileges this process lacks (EACCES): set ${at.portVariable} to a port above 1023`, {
      path: port,
      cause: err,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || name === 'AddrNotAvailable') {
    return new CraError('invalid_request', `${at.host} is not an address of this machine (${code || name}): set ${at.hostVariable} to one of its interfaces`, {
      path: `/${at.hostVariable}`,
      cause: err,
    });
  }
  return err;
}

/** The line printed (to stderr) when the server cannot start. */
export function startFailure(err: unknown): string {
  const detail = err instanceof CraError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `CRA server failed to start: ${detail}`;
}

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

/** The line printed (to stderr) when the server cannot start. */
export function startFailure(err: unknown): string {
  const detail = err instanceof CraError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `CRA server failed to start: ${detail}`;
}

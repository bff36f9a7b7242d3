/**
 * What every command writes: a result for people (lines on stdout) or for scripts (`--json`: one JSON object on
 * stdout, nothing else there), failures on stderr. Exit codes: 0 done, 1 failed or invalid, 2 usage error.
 *
 * @module
 */

import type { Writable } from 'node:stream';
import { CraError } from '../errors.ts';
import type { RunningProxy } from '../mcp/proxy.ts';

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  /** The environment (default: `process.env`): `cra serve` reads `CRA_*` from it, `cra trace export` `CRA_DATA_DIR`. */
  env?: Record<string, string | undefined>;
  /** Called with the running proxy (tests; the CLI wires SIGINT / SIGTERM here). */
  onProxy?: (proxy: RunningProxy) => void;
  /** Called with the running server of `cra serve` (tests; the CLI wires SIGINT / SIGTERM here). */
  onServer?: (server: { url: string; close(): Promise<void> }) => void;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** `value` as one JSON line on stdout. */
export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** `cra <command>: <message>` on stderr; exit 1. */
export function fail(io: CliIO, command: string, message: string): number {
  io.stderr.write(`cra ${command}: ${message}\n`);
  return EXIT.failed;
}

/** An error in one line: a CraError's message, where (its JSON pointer) and its code. */
export function describeError(err: unknown): string {
  if (err instanceof CraError) return `${err.message}${err.path ? ` (at ${err.path})` : ''} [${err.code}]`;
  return err instanceof Error ? err.message : String(err);
}

/** Whether progress lines go to stderr: asked for, or stderr is a terminal (someone is watching). */
export function showProgress(io: CliIO, asked: boolean): boolean {
  return asked || (io.stderr as { isTTY?: boolean }).isTTY === true;
}

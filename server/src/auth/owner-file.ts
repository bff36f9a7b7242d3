/**
 * Session owners in a file (Node): `owners.jsonl` in the data folder, one `{"session_id","owner"}` line per session,
 * appended and fsynced before the session is answered. Owners are API key hashes, never keys. A torn last line (a
 * crash mid-write) is skipped: that session then has no owner, and stays invisible to every key (fail closed).
 *
 * @module
 */

import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CraError } from '../../../sdk/src/errors.ts';
import type { OwnerStore } from './owner.ts';

export class FileOwners implements OwnerStore {
  private readonly owners = new Map<string, string>();
  private handle: FileHandle | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  /** Lines that could not be read on open. */
  readonly skipped: number[] = [];

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<FileOwners> {
    const store = new FileOwners(path);
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      try {
        const rec = JSON.parse(line) as { session_id?: unknown; owner?: unknown };
        if (typeof rec.session_id === 'string' && typeof rec.owner === 'string') {
          // The first owner recorded wins: a session id is claimed once.
          if (!store.owners.has(rec.session_id)) store.owners.set(rec.session_id, rec.owner);
          continue;
        }
      } catch {
        // fall through
      }
      store.skipped.push(i + 1);
    }
    store.handle = await open(path, 'a');
    // A torn last line: start the next record on a fresh line.
    if (text.length > 0 && !text.endsWith('\n')) await store.handle.write('\n');
    return store;
  }

  get(sessionId: string): string | undefined {
    return this.owners.get(sessionId);
  }

  get size(): number {
    return this.owners.size;
  }

  set(sessionId: string, owner: string): Promise<void> {
    const write = this.tail.then(async () => {
      if (!this.handle) throw new CraError('closed', 'the owners file is closed');
      if (this.owners.has(sessionId)) return;
      try {
        await this.handle.write(`${JSON.stringify({ session_id: sessionId, owner })}\n`);
        await this.handle.datasync();
      } catch (err) {
        throw new CraError('storage_failure', `cannot record the owner of session ${sessionId}: ${(err as Error).message}`, { cause: err });
      }
      this.owners.set(sessionId, owner);
    });
    this.tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.tail;
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}

/**
 * A collector sink writing JSONL files (Node): one `<session_id>.trace.jsonl` per session in `dir`, or every event
 * in one `file`. Append-only; a batch is fsynced before it counts as taken.
 *
 * Keep a sink's folder apart from a JSONL store's: the store refuses to create a file that already exists.
 *
 * @module
 */

import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CraError } from '../errors.ts';
import { checkJsonValue } from '../json-value.ts';
import { isObject } from '../util.ts';
import { batchOf } from './sinks.ts';
import type { TraceEvent } from '../types.ts';
import type { TraceSink } from './collector.ts';

/** An event's place: its session and sequence (event ids need not be unique across sessions). */
const key = (e: TraceEvent) => `${e.session_id}#${e.sequence}`;

/** Where a {@link jsonlSink} writes: a folder with one file per session, or one file for every event. */
export type JsonlSinkOptions =
  | {
      /** Folder of the `<session_id>.trace.jsonl` files; created when missing. */
      dir: string;
      /** Not with `dir`. */
      file?: undefined;
      /** fdatasync each file a batch wrote before the batch counts as taken. Default true. */
      fsync?: boolean;
    }
  | {
      /** The one file every event is appended to; its folder is created when missing. */
      file: string;
      /** Not with `file`. */
      dir?: undefined;
      /** fdatasync the file before a batch counts as taken. Default true. */
      fsync?: boolean;
    };

/**
 * A sink appending events as JSONL lines. A batch that fails half-way is offered again whole: the events it had
 * already written are skipped then, so no line is written twice.
 */
export function jsonlSink(options: JsonlSinkOptions): TraceSink {
  if (!isObject(options) || (typeof options.dir !== 'string' && typeof options.file !== 'string')) {
    throw new CraError('invalid_request', 'a JSONL sink needs a dir or a file', { path: '' });
  }
  const fsync = options.fsync ?? true;
  const target = (sessionId: string) =>
    options.file ?? join(options.dir!, `${sessionId.replace(/[^0-9a-f-]/gi, '_')}.trace.jsonl`);
  // Events of a batch that failed half-way and were already written: skipped when the batch comes again.
  const written = new Set<string>();
  return {
    name: `jsonl:${options.file ?? options.dir}`,
    async write(events: readonly TraceEvent[]) {
      // Checked before anything is written: JSON.stringify would overflow on a deep event, or write `null` for NaN.
      checkJsonValue(batchOf(events));
      const groups = new Map<string, TraceEvent[]>();
      for (const e of events) {
        if (!isObject(e) || typeof e.session_id !== 'string') throw new CraError('invalid_request', 'an event names its session', { path: '' });
        if (written.has(key(e))) continue;
        const path = target(e.session_id);
        let group = groups.get(path);
        if (!group) groups.set(path, (group = []));
        group.push(e);
      }
      for (const [path, group] of groups) {
        await mkdir(dirname(path), { recursive: true });
        const fh = await open(path, 'a');
        try {
          const { size } = await fh.stat();
          try {
            await fh.writeFile(group.map((e) => `${JSON.stringify(e)}\n`).join(''));
            if (fsync) await fh.datasync();
          } catch (err) {
            await fh.truncate(size).catch(() => undefined);
            throw err;
          }
        } finally {
          await fh.close();
        }
        for (const e of group) written.add(key(e));
      }
      written.clear();
    },
  };
}

/**
 * The checkpoint file of a session in a JSONL store: `<session_id>.checkpoints.jsonl` beside its trace, one signed
 * note per line as a JSON string, oldest first. A note is several lines of text itself; as a JSON string it is one
 * line of the file, so that a line is a note and a cut write shows as a last line without its newline.
 *
 * A torn last line is a write cut short (a crash): it was never acknowledged under `'fsync'`, so reading drops it and
 * the next append cuts it off first. Any other line that is not a JSON string is damage, refused with its file and
 * line. The store (`jsonl.ts`) runs every operation of the file on its session's ordered chain; these functions only
 * read and record.
 *
 * @module
 */

import { CraError } from '../errors.ts';
import type { StoreIssue } from './store.ts';

/** A checkpoint file's name; the session id is its first group. */
export const CHECKPOINT_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.checkpoints\.jsonl$/;

/** A session's checkpoint file, as the store tracks it between operations. */
export interface NotesState {
  path: string;
  /** The file was read since the store opened (and a torn tail cut off): `size` is its length. */
  read: boolean;
  /** Bytes of complete lines: where a failed write is cut back to. */
  size: number;
  /** The file exists on disk. */
  exists: boolean;
  /** Written since its last fsync (`'interval'`). */
  dirty: boolean;
  /** Created since the folder was last fsynced. */
  created: boolean;
  /** A write that could not be cut back: nothing more is written to this file. */
  failed: CraError | null;
}

/** The state of a checkpoint file before it is read. */
export function notesState(path: string): NotesState {
  return { path, read: false, size: 0, exists: false, dirty: false, created: false, failed: null };
}

/** A checkpoint file read: its notes, the bytes of their lines, whether a torn last line was dropped, and damage. */
export interface ParsedNotes {
  notes: string[];
  size: number;
  torn: boolean;
  /** A line that is not one JSON string (`malformed_line`); the notes before it are in `notes`. */
  issue: StoreIssue | null;
}

/** Reads a checkpoint file's text (see the module's header). */
export function parseCheckpoints(text: string, sessionId: string, location: string): ParsedNotes {
  const notes: string[] = [];
  let size = 0;
  let start = 0;
  for (let line = 1; start < text.length; line++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return { notes, size, torn: true, issue: null };
    const raw = text.slice(start, nl);
    let note: unknown;
    try {
      note = JSON.parse(raw);
    } catch {
      note = undefined;
    }
    if (typeof note !== 'string') {
      const issue: StoreIssue = {
        session_id: sessionId,
        kind: 'malformed_line',
        message: `line ${line} of the checkpoint file is not a JSON string`,
        location,
        line,
      };
      return { notes, size, torn: false, issue };
    }
    notes.push(note);
    size += Buffer.byteLength(raw, 'utf8') + 1;
    start = nl + 1;
  }
  return { notes, size, torn: false, issue: null };
}

/** A note as its line of the file. */
export function encodeNote(note: string): Buffer {
  return Buffer.from(`${JSON.stringify(note)}\n`, 'utf8');
}

/** The error of a damaged checkpoint file, naming the file and the line. */
export function damagedCheckpoints(issue: StoreIssue): CraError {
  return new CraError('storage_corrupt', `stored checkpoints ${issue.location ?? ''} are damaged: ${issue.message}`, { details: [issue] });
}

/**
 * One rule for reading JSONL traces: the store's parser (`parseTrace`, which must work without a core) and the
 * core's `trace.from_jsonl` accept and refuse the same texts. In particular a last line without its newline is a
 * torn write for both, even when it parses: appending to it would glue two events onto one line.
 */
import { describe, expect, it } from 'vitest';
import { readJsonl } from '../../test/helpers.ts';
import { fromJsonl } from '../runtime/tools.ts';
import { parseTrace } from './jsonl.ts';

const chain = await readJsonl('vectors/reference-branch-simple-resolve.trace.jsonl');
const line = (i: number) => JSON.stringify(chain[i]);

const TEXTS: Array<[string, string]> = [
  ['empty', ''],
  ['one event', `${line(0)}\n`],
  ['three events', `${line(0)}\n${line(1)}\n${line(2)}\n`],
  ['a last line without its newline', `${line(0)}\n${line(1)}`],
  ['a cut last line', `${line(0)}\n${line(1).slice(0, 40)}`],
  ['a malformed line', `${line(0)}\nnot json\n${line(2)}\n`],
  ['a line that is not an object', `${line(0)}\n[1,2]\n`],
  ['an empty line', `${line(0)}\n\n${line(1)}\n`],
];

describe('JSONL: the store and the core read traces by the same rule', () => {
  for (const [name, text] of TEXTS) {
    it(name, async () => {
      const store = parseTrace(text, null);
      const core = await fromJsonl(text).then(
        (events) => ({ ok: true as const, events }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      expect(core.ok, `core: ${core.ok ? 'accepted' : String((core as { err: unknown }).err)}; store: ${store.issue?.message ?? 'accepted'}`).toBe(store.issue === null);
      if (core.ok) expect(core.events).toEqual(store.events);
    });
  }
});

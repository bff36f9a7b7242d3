/**
 * `docs/protocol.md` shows a real checkpoint: the note in "Proofs" verifies with the verifier key printed beside it,
 * and stops verifying when any line of it changes — so the format the document describes is the one the runtime
 * signs and reads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../sdk/src/proof/verify.ts';

const doc = await readFile(join(import.meta.dirname, 'protocol.md'), 'utf8');
const proofs = doc.split('## Proofs')[1]!.split('\n## ')[0]!;
const note = `${/```text\n([\s\S]*?)```/.exec(proofs)![1]!}`;
const key = /verifies with the verifier key `([^`]+)`/.exec(proofs)![1]!;

describe('docs/protocol.md: the example checkpoint', () => {
  it('verifies with the key printed beside it, as the section describes its lines', async () => {
    const v = await verifyCheckpoint(note, { keys: key });
    expect(v).toMatchObject({ valid: true, size: 2, key });
    const lines = note.split('\n');
    expect(lines[0]).toBe(`cra.example.com/prod/${v.valid ? v.session_id : ''}`);
    expect(lines[3]).toMatch(/^time \d{4}-\d\d-\d\dT/);
    expect(lines[5]!.startsWith('\u2014 cra.example.com/prod ')).toBe(true);
  });

  it('does not verify once a line of its body changes', async () => {
    const lines = note.split('\n');
    for (const i of [0, 1, 2, 3]) {
      const changed = [...lines];
      changed[i] = i === 1 ? '3' : `${changed[i]!.slice(0, -2)}${changed[i]!.at(-2) === 'A' ? 'B' : 'A'}${changed[i]!.at(-1)}`;
      const v = await verifyCheckpoint(changed.join('\n'), { keys: key });
      expect(v.valid).toBe(false);
    }
  });
});

import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../sdk/test/helpers.ts';
import { CraError } from '../../../sdk/src/errors.ts';
import { createRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { FileOwners } from './owner-file.ts';
import { MemoryOwners, Ownership } from './owner.ts';

describe('session owners', () => {
  it('persist in owners.jsonl (hashes, never keys) and are read back; the first owner of an id wins', async () => {
    const t = await tempDir();
    try {
      const path = join(t.dir, 'sub', 'owners.jsonl');
      const a = await FileOwners.open(path);
      await a.set('s-1', 'sha256:aaa');
      await a.set('s-2', 'sha256:bbb');
      await a.set('s-1', 'sha256:ccc');
      expect(a.get('s-1')).toBe('sha256:aaa');
      await a.close();
      await expect(a.set('s-3', 'x')).rejects.toMatchObject({ code: 'closed' });
      expect(await readFile(path, 'utf8')).toBe('{"session_id":"s-1","owner":"sha256:aaa"}\n{"session_id":"s-2","owner":"sha256:bbb"}\n');

      // A torn last line (crash mid-write) is skipped; writing resumes on a fresh line.
      await appendFile(path, '{"session_id":"s-9","ow');
      const b = await FileOwners.open(path);
      expect(b.skipped).toEqual([3]);
      expect([b.get('s-1'), b.get('s-2'), b.get('s-9')]).toEqual(['sha256:aaa', 'sha256:bbb', undefined]);
      await b.set('s-4', 'sha256:ddd');
      await b.close();
      const c = await FileOwners.open(path);
      expect(c.get('s-4')).toBe('sha256:ddd');
      expect(c.size).toBe(3);
      await c.close();
    } finally {
      await t.cleanup();
    }
  });

  it('hides sessions from other principals, with the runtime’s own answer for a missing id, unless ownership is off', async () => {
    const runtime = await createRuntime();
    try {
      const owners = new MemoryOwners();
      const on = new Ownership(owners, true, runtime);
      const alice = { owner: 'sha256:a', admin: false, atlases: false, id: 'a' };
      const bob = { owner: 'sha256:b', admin: true, atlases: true, id: 'b' };
      const s = await runtime.createSession({ agentId: 'a', goal: 'g' });
      await on.claim(alice, s.id);
      expect([on.visible(alice, s.id), on.visible(bob, s.id), on.visible(alice, 'unknown')]).toEqual([true, false, false]);
      await expect(on.check(alice, s.id)).resolves.toBeUndefined();
      const unknown = 'F0000000-0000-7000-8000-00000000beef';
      const missing = await runtime.getSession(unknown).catch((e: CraError) => e);
      const foreign = await on.check(bob, unknown).catch((e: CraError) => e);
      expect((foreign as CraError).toJSON()).toEqual((missing as CraError).toJSON());
      await expect(on.check(bob, s.id)).rejects.toMatchObject({ code: 'session_not_found', status: 404, path: '/session_id', message: `unknown session: ${s.id}` });
      const carp = { session_id: s.id, agent_id: 'a', goal: 'x' };
      await expect(on.checkCarp(bob, carp, s.id)).rejects.toMatchObject({ code: 'session_not_found', status: 404, message: expect.stringContaining(s.id) });
      expect(new Ownership(owners, false, runtime).visible(bob, s.id)).toBe(true);
      // No session has an id that is not a UUID: the runtime itself answers for those.
      await expect(on.check(bob, 'not-a-uuid')).resolves.toBeUndefined();
      // …and missing() gives routes that very answer for such an id, asked of the runtime about a fresh UUID.
      const notFound = await runtime.getSession('b0000000-0000-4000-8000-00000000cafe').catch((e: CraError) => e);
      expect((await on.missing('not-a-uuid')).toJSON()).toEqual(
        JSON.parse(JSON.stringify((notFound as CraError).toJSON()).replaceAll('b0000000-0000-4000-8000-00000000cafe', 'not-a-uuid')),
      );
      expect(await runtime.trace(s.id)).toHaveLength(1);
    } finally {
      await runtime.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../../sdk/src/runtime/runtime.ts';
import { createApp } from '../app.ts';
import { checkKeys, generateKey, KeyRing, ownerOf, presentedKey, shortKeyWarning, startupAuth } from './keys.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('API keys', () => {
  it('reads the key from Authorization: Bearer or X-API-Key', () => {
    expect(presentedKey(headers({ authorization: 'Bearer abc' }))).toBe('abc');
    expect(presentedKey(headers({ authorization: 'bearer   abc  ' }))).toBe('abc');
    expect(presentedKey(headers({ 'x-api-key': 'xyz' }))).toBe('xyz');
    expect(presentedKey(headers({ authorization: 'Bearer abc', 'x-api-key': 'xyz' }))).toBe('abc');
    expect(presentedKey(headers({}))).toBeUndefined();
    expect(() => presentedKey(headers({ authorization: 'Basic dXNlcjpwYXNz' }))).toThrow(expect.objectContaining({ code: 'unauthorized', status: 401 }));
  });

  it('generates 256-bit keys that are valid keys', () => {
    const a = generateKey();
    expect(a).toMatch(/^cra_[A-Za-z0-9_-]{43}$/);
    expect(generateKey()).not.toBe(a);
    expect(() => checkKeys({ keys: [a] })).not.toThrow();
  });

  it('accepts any non-empty printable key, short ones included; refuses empty, spaced, non-ASCII or missing keys', () => {
    expect(() => checkKeys({ keys: ['k1', 'x', '~!#$%&*+,./:;<=>?@[]^_`{|}'] })).not.toThrow();
    expect(() => checkKeys({ keys: [''] })).toThrow(expect.objectContaining({ path: '/auth/keys/0' }));
    expect(() => checkKeys({ keys: ['has a space in it 0123'] })).toThrow(expect.objectContaining({ path: '/auth/keys/0' }));
    expect(() => checkKeys({ keys: ['tab\tkey'] })).toThrow(expect.objectContaining({ path: '/auth/keys/0' }));
    expect(() => checkKeys({ keys: ['clé-0123456789abcdef'] })).toThrow(expect.objectContaining({ path: '/auth/keys/0' }));
    expect(() => checkKeys({ keys: [], adminKeys: ['ok-key-0123456789', 'a b'] })).toThrow(expect.objectContaining({ path: '/auth/adminKeys/1' }));
    expect(() => checkKeys({ keys: [42 as unknown as string] })).toThrow(expect.objectContaining({ path: '/auth/keys/0' }));
    expect(() => checkKeys({ keys: [] })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/auth/keys' }));
  });

  it('warns in one line about keys shorter than 16 characters, naming their place, never the key', () => {
    expect(shortKeyWarning({ apiKeys: ['key-one-0123456789'], adminKeys: [] })).toBeNull();
    const line = shortKeyWarning({ apiKeys: ['key-one-0123456789', 'k1'], adminKeys: ['adm'] })!;
    expect(line).toMatch(/^ {2}auth: warning: CRA_API_KEYS\[1\], CRA_ADMIN_KEYS\[0\] shorter than 16 characters/);
    expect(line).not.toContain('\n');
    expect(line).not.toMatch(/\bk1\b|\badm\b/);
  });

  it('keeps atlas changes to admin keys by default, even with none configured; every key only when told (any-key)', async () => {
    const none = await KeyRing.create({ keys: ['k1', 'k2'] });
    expect(await none.authenticate('k1')).toMatchObject({ admin: false, atlases: false });
    const ruled = await KeyRing.create({ keys: ['k1'], adminKeys: ['root'] });
    expect(await ruled.authenticate('k1')).toMatchObject({ admin: false, atlases: false });
    expect(await ruled.authenticate('root')).toMatchObject({ admin: true, atlases: true });
    const open = await KeyRing.create({ keys: ['k1', 'k2'], atlasWrites: 'any-key' });
    expect(await open.authenticate('k2')).toMatchObject({ admin: false, atlases: true });
    expect(() => checkKeys({ keys: ['k1'], atlasWrites: 'everyone' as never })).toThrow(expect.objectContaining({ path: '/auth/atlasWrites' }));
  });

  it('makes the key generated at start an admin key; configured keys carry the atlas-write rule', () => {
    const generated = startupAuth({ auth: true, apiKeys: [], adminKeys: [] });
    expect(generated.auth).toEqual({ keys: [generated.generatedKey], adminKeys: [generated.generatedKey], atlasWrites: 'admin' });
    expect(startupAuth({ auth: true, apiKeys: ['k1'], adminKeys: [], atlasWrites: 'any-key' })).toEqual({
      auth: { keys: ['k1'], adminKeys: [], atlasWrites: 'any-key' },
      generatedKey: null,
    });
    expect(startupAuth({ auth: true, apiKeys: ['k1'], adminKeys: [] }).auth).toMatchObject({ atlasWrites: 'admin' });
  });

  it('knows keys by hash; the owner id never contains the key', async () => {
    const ring = await KeyRing.create({ keys: ['user-key-0123456789'], adminKeys: ['admin-key-0123456789'] });
    expect(ring.size).toBe(2);
    const user = await ring.authenticate('user-key-0123456789');
    expect(user).toMatchObject({ admin: false, owner: await ownerOf('user-key-0123456789') });
    expect(user!.owner).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(user!.owner).not.toContain('user-key');
    expect(await ring.authenticate('admin-key-0123456789')).toMatchObject({ admin: true });
    expect(await ring.authenticate('user-key-012345678')).toBeNull();
  });

  it('createApp refuses to start with auth on and no key; auth off must be explicit', async () => {
    const runtime = await createRuntime();
    try {
      expect(() => createApp({ runtime })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/auth' }));
      expect(() => createApp({ runtime, auth: { keys: [] } })).toThrow(expect.objectContaining({ path: '/auth/keys' }));
      expect(() => createApp({ runtime, auth: false })).not.toThrow();
    } finally {
      await runtime.close();
    }
  });
});

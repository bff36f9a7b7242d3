import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('has safe defaults: auth on, loopback, port 8420, 1 MiB bodies, no CORS, no rate limit', () => {
    expect(parseConfig({})).toEqual({
      port: 8420,
      host: '127.0.0.1',
      atlasDir: undefined,
      dataDir: '.data',
      auth: true,
      apiKeys: [],
      adminKeys: [],
      maxBodyBytes: 1024 * 1024,
      corsOrigins: [],
      rateLimit: 0,
    });
  });

  it('reads every variable', () => {
    expect(
      parseConfig({
        CRA_PORT: '9000',
        CRA_HOST: '0.0.0.0',
        CRA_ATLAS_DIR: '/atlases',
        CRA_DATA_DIR: '/var/lib/cra',
        CRA_AUTH: 'on',
        CRA_API_KEYS: ' key-one-0123456789 , key-two-0123456789,,',
        CRA_ADMIN_KEYS: 'admin-key-0123456789',
        CRA_MAX_BODY_BYTES: '2048',
        CRA_CORS_ORIGINS: 'https://a.example, https://b.example',
        CRA_RATE_LIMIT: '120',
      }),
    ).toEqual({
      port: 9000,
      host: '0.0.0.0',
      atlasDir: '/atlases',
      dataDir: '/var/lib/cra',
      auth: true,
      apiKeys: ['key-one-0123456789', 'key-two-0123456789'],
      adminKeys: ['admin-key-0123456789'],
      maxBodyBytes: 2048,
      corsOrigins: ['https://a.example', 'https://b.example'],
      rateLimit: 120,
    });
  });

  it('turns auth off only when told exactly', () => {
    expect(parseConfig({ CRA_AUTH: 'off' }).auth).toBe(false);
    expect(parseConfig({ CRA_AUTH: 'OFF' }).auth).toBe(false);
    expect(() => parseConfig({ CRA_AUTH: 'no' })).toThrow(expect.objectContaining({ code: 'invalid_request', path: '/CRA_AUTH' }));
    expect(() => parseConfig({ CRA_AUTH: 'false' })).toThrow(expect.objectContaining({ path: '/CRA_AUTH' }));
  });

  it('refuses malformed numbers, naming the variable', () => {
    expect(() => parseConfig({ CRA_PORT: 'eighty' })).toThrow(expect.objectContaining({ path: '/CRA_PORT' }));
    expect(() => parseConfig({ CRA_PORT: '70000' })).toThrow(expect.objectContaining({ path: '/CRA_PORT' }));
    expect(() => parseConfig({ CRA_MAX_BODY_BYTES: '0' })).toThrow(expect.objectContaining({ path: '/CRA_MAX_BODY_BYTES' }));
    expect(() => parseConfig({ CRA_RATE_LIMIT: '-1' })).toThrow(expect.objectContaining({ path: '/CRA_RATE_LIMIT' }));
    expect(parseConfig({ CRA_PORT: '0' }).port).toBe(0);
  });
});

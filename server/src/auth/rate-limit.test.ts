import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../errors.ts';
import type { AuthEnv } from './keys.ts';
import { rateLimit } from './rate-limit.ts';

describe('rateLimit', () => {
  it('is a token bucket per principal: burst, then refill at the sustained rate', async () => {
    let now = 0;
    const app = new Hono<AuthEnv>();
    app.onError((err, c) => errorResponse(c, err));
    app.use('*', async (c, next) => {
      c.set('principal', { owner: c.req.header('x-who') ?? 'nobody', admin: false, atlases: false, id: 'x' });
      await next();
    });
    app.use('*', rateLimit({ perMinute: 60, burst: 2, now: () => now }));
    app.get('/', (c) => c.text('ok'));
    const hit = async (who = 'a') => (await app.request('/', { headers: { 'x-who': who } })).status;
    expect([await hit(), await hit(), await hit()]).toEqual([200, 200, 429]);
    const r = await app.request('/', { headers: { 'x-who': 'a' } });
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(await hit('b')).toBe(200);
    now += 1000; // one token a second
    expect([await hit(), await hit()]).toEqual([200, 429]);
    now += 60_000; // never more than the burst
    expect([await hit(), await hit(), await hit()]).toEqual([200, 200, 429]);
  });
});

/**
 * A token bucket per principal: `burst` requests at once, refilled at `perMinute` requests a minute. A request
 * over the limit is refused with 429 `rate_limited` and `Retry-After` (whole seconds).
 *
 * @module
 */

import type { MiddlewareHandler } from 'hono';
import { httpError } from '../errors.ts';
import type { AuthEnv } from './keys.ts';

/** The per-key token bucket of `createApp({ rateLimit })`: over it, a request is refused with 429 `rate_limited`. */
export interface RateLimitOptions {
  /** Sustained requests a minute per key. */
  perMinute: number;
  /** Bucket size (default: `perMinute`). */
  burst?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 10_000;

export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AuthEnv> {
  const rate = options.perMinute / 60_000; // tokens per ms
  const burst = options.burst ?? options.perMinute;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  return async (c, next) => {
    const id = c.var.principal?.owner ?? 'anonymous';
    const t = now();
    let b = buckets.get(id);
    if (!b) {
      if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value!);
      b = { tokens: burst, at: t };
      buckets.set(id, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (t - b.at) * rate);
      b.at = t;
    }
    if (b.tokens < 1) {
      const retry = Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
      throw httpError('rate_limited', `too many requests: retry in ${retry} s`, { headers: { 'Retry-After': String(retry) } });
    }
    b.tokens -= 1;
    return next();
  };
}

import { describe, expect, it } from 'vitest';
import { isoFromMicros, isUuid, microsFromIso, systemClock, systemIds, uuidv7, writeUuidv7 } from './host.ts';
import { CraError } from './errors.ts';

describe('uuidv7', () => {
  it('is a lowercase version-7, variant-1 UUID carrying the millisecond time', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(ms);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('sorts by time and does not repeat', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a < b).toBe(true);
    const many = new Set(Array.from({ length: 2000 }, () => systemIds()));
    expect(many.size).toBe(2000);
  });
});

describe('isUuid', () => {
  it('accepts only the lowercase canonical form', () => {
    expect(isUuid('01234567-89ab-cdef-0123-456789abcdef')).toBe(true);
    expect(isUuid('01234567-89AB-cdef-0123-456789abcdef')).toBe(false);
    expect(isUuid('0123456789ab-cdef-0123-456789abcdef0')).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

describe('time', () => {
  it('renders microseconds as RFC 3339 with six fractional digits', () => {
    const us = Date.UTC(2024, 11, 28, 12, 0, 0, 123) * 1000 + 456;
    expect(isoFromMicros(us)).toBe('2024-12-28T12:00:00.123456Z');
    expect(isoFromMicros(Date.UTC(2024, 11, 28, 12, 0, 0) * 1000)).toBe('2024-12-28T12:00:00.000000Z');
  });

  it('parses RFC 3339 back to microseconds, with offsets and any fraction length', () => {
    expect(microsFromIso('2024-12-28T12:00:00.123456Z')).toBe(Date.UTC(2024, 11, 28, 12, 0, 0, 123) * 1000 + 456);
    expect(microsFromIso('2024-12-28T14:00:00.5+02:00')).toBe(Date.UTC(2024, 11, 28, 12, 0, 0, 500) * 1000);
    expect(microsFromIso('2024-12-28T12:00:00Z')).toBe(Date.UTC(2024, 11, 28, 12) * 1000);
    expect(Number.isNaN(microsFromIso('yesterday'))).toBe(true);
  });

  it('the system clock answers integral microseconds close to Date.now()', () => {
    const t = systemClock();
    expect(Number.isSafeInteger(t)).toBe(true);
    expect(Math.abs(t / 1000 - Date.now())).toBeLessThan(1000);
  });
});

describe('time and id helpers refuse what they cannot represent with a CraError', () => {
  const refused = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof CraError ? err.code : `not a CraError: ${String(err)}`;
    }
    return 'accepted';
  };

  it('isoFromMicros', () => {
    for (const bad of [Number.NaN, Infinity, 1.5, 9e18, '1', Symbol('t'), 10n, null]) {
      expect(refused(() => isoFromMicros(bad as never))).toBe('invalid_request');
    }
  });

  it('uuidv7', () => {
    for (const bad of [Number.NaN, -1, 2 ** 48, Symbol('t'), 10n, 'now']) {
      expect(refused(() => uuidv7(bad as never))).toBe('invalid_request');
    }
    expect(isUuid(uuidv7(0))).toBe(true);
  });

  it('microsFromIso answers NaN for anything that is not a timestamp', () => {
    for (const bad of [Symbol('t'), 10n, null, {}, 42]) expect(Number.isNaN(microsFromIso(bad as never))).toBe(true);
  });
});

describe('writeUuidv7', () => {
  it('writes the UUIDv7 uuidv7() makes for the same millisecond, as 36 ASCII bytes in place', () => {
    const out = new Uint8Array(80).fill(0x21);
    const text = new TextDecoder();
    for (const ms of [0, 1, 255, 65535, 65536, 1_700_000_000_123, 2 ** 48 - 1]) {
      writeUuidv7(out, 7, ms);
      const id = text.decode(out.subarray(7, 43));
      expect(isUuid(id)).toBe(true);
      expect(id.slice(0, 14)).toBe(uuidv7(ms).slice(0, 14));
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
      expect(out[6]).toBe(0x21);
      expect(out[43]).toBe(0x21);
    }
    writeUuidv7(out, 0, 1);
    const a = text.decode(out.subarray(0, 36));
    writeUuidv7(out, 0, 1);
    expect(text.decode(out.subarray(0, 36))).not.toBe(a);
  });
});

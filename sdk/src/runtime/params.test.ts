import { describe, expect, it } from 'vitest';
import { validateParameters } from './params.ts';

const schema = {
  type: 'object',
  required: ['ticket_id', 'body'],
  properties: {
    ticket_id: { type: 'string', pattern: '^T-[0-9]{4,10}$' },
    body: { type: 'string', minLength: 1 },
    tags: { type: 'array', items: { type: 'string' } },
    'a/b c': { type: 'integer' },
  },
  additionalProperties: false,
};

describe('validateParameters', () => {
  it('answers no errors for valid parameters or when there is no schema', () => {
    expect(validateParameters(schema, { ticket_id: 'T-1234', body: 'hi' })).toEqual([]);
    expect(validateParameters(undefined, { anything: 1 })).toEqual([]);
  });

  it('lists each violation once, at its JSON pointer, without wrapper errors', () => {
    const errors = validateParameters(schema, { ticket_id: 'X', tags: ['a', 2], extra: true, 'a/b c': 'no' });
    const paths = errors.map((e) => e.path).sort();
    expect(paths).toEqual(['', '/a~1b c', '/extra', '/tags/1', '/ticket_id']);
    expect(errors.find((e) => e.path === '')!.message).toMatch(/body/);
    expect(errors.find((e) => e.path === '/ticket_id')!.message).toMatch(/pattern/);
    expect(errors.find((e) => e.path === '/extra')!.message).toBe('is not allowed by the schema');
    expect(errors.some((e) => /does not match schema/.test(e.message))).toBe(false);
  });

  it('validates draft 2020-12 keywords (prefixItems, formats)', () => {
    const s = { type: 'array', prefixItems: [{ type: 'string', format: 'date-time' }, { type: 'integer' }] };
    expect(validateParameters(s, ['2024-12-28T12:00:00Z', 3])).toEqual([]);
    expect(validateParameters(s, ['not a date', 3]).map((e) => e.path)).toEqual(['/0']);
  });

  it('turns a schema that cannot be evaluated into an error, so that the call is refused', () => {
    const errors = validateParameters({ $ref: '#/$defs/missing' }, {});
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('');
    expect(errors[0]!.message).toMatch(/cannot be evaluated/);
  });

  it('never modifies the schema (it may be frozen, or loaded into the core again)', () => {
    const s = Object.freeze({ type: 'object', required: ['x'], properties: Object.freeze({ x: Object.freeze({ type: 'string' }) }) });
    const copy = structuredClone(s);
    expect(validateParameters(s, { x: 1 }).map((e) => e.path)).toEqual(['/x']);
    expect(validateParameters(s, { x: 'ok' })).toEqual([]);
    const open = { type: 'object', properties: { y: { $ref: '#/$defs/y' } }, $defs: { y: { type: 'integer' } } };
    const before = JSON.stringify(open);
    expect(validateParameters(open, { y: 'no' })).toHaveLength(1);
    expect(JSON.stringify(open)).toBe(before);
    expect(s).toEqual(copy);
  });

  it('reuses the compiled validator for the same schema object', () => {
    const s = { type: 'object', required: ['x'] };
    expect(validateParameters(s, {})).toHaveLength(1);
    expect(validateParameters(s, { x: 1 })).toHaveLength(0);
  });
});

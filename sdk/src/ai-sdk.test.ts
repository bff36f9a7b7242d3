/** `toAiSdkTools` refuses what is not a guard with a typed error (the example covers a real guard end to end). */
import { describe, expect, it } from 'vitest';
import { toAiSdkTools } from './ai-sdk.ts';
import { CraError } from './errors.ts';

describe('toAiSdkTools', () => {
  it.each([null, undefined, 42, 'guard', {}, { catalog: 1 }])('refuses %s with invalid_request', async (bad) => {
    const err = await toAiSdkTools(bad as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CraError);
    expect((err as CraError).code).toBe('invalid_request');
  });
});

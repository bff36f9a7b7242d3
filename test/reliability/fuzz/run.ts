/**
 * The fuzz suite: the ABI, the SDK and the HTTP surface, `cases` each, from one seed (see each surface's module for
 * what it tries and what must hold).
 *
 * @module
 */

import type { CliArgs } from '../common/cli.ts';
import { Rng } from '../common/rng.ts';
import { Failures, type Summary } from '../common/summary.ts';
import { fuzzAbi } from './abi.ts';
import { fuzzHttp } from './http.ts';
import { fuzzSdk } from './sdk.ts';

export type Surface = 'abi' | 'sdk' | 'http';

export async function runFuzz(args: Pick<CliArgs, 'seed' | 'sizes' | 'flags'>, log: (line: string) => void = () => undefined) {
  const cases = args.sizes.cases ?? 2000;
  const surfaces = (['abi', 'sdk', 'http'] as const).filter((s) => !['abi', 'sdk', 'http'].some((f) => args.flags.has(f)) || args.flags.has(s));
  const failures = new Failures();
  const figures: Record<string, number | string> = {};
  for (const surface of surfaces) {
    const started = performance.now();
    log(`fuzz ${surface}: ${cases} case(s), seed ${args.seed}`);
    const rng = new Rng(args.seed ^ surface.length * 0x9e3779b1);
    const stats =
      surface === 'abi'
        ? await fuzzAbi(cases, args.seed, rng, failures, log)
        : surface === 'sdk'
          ? await fuzzSdk(cases, args.seed, failures, log)
          : await fuzzHttp(cases, args.seed, rng, failures, log);
    const secs = (performance.now() - started) / 1000;
    figures[`${surface}`] = `${cases} cases in ${secs.toFixed(1)} s (${Math.round(cases / secs)}/s); ${Object.entries(stats).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  }
  const summary: Summary = { suite: 'fuzz', seed: args.seed, cases: cases * surfaces.length, failures: failures.list, figures };
  return { summary, failures };
}

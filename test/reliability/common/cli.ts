/**
 * The command line every suite shares: `--seed N`, one size (`--cases`, `--rounds` or `--seconds`), `--json`. A run
 * without `--seed` draws one and prints it, so that any run can be replayed.
 *
 * @module
 */

import type { Failures, Summary } from './summary.ts';
import { render } from './summary.ts';

export interface CliArgs {
  seed: number;
  json: boolean;
  /** Every numeric flag given, by name without the dashes. */
  sizes: Record<string, number>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const sizes: Record<string, number> = {};
  const flags = new Set<string>();
  let seed = Math.floor(Math.random() * 2 ** 31);
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a.startsWith('--') && /^\d+$/.test(argv[i + 1] ?? '')) {
      const v = Number(argv[++i]);
      if (a === '--seed') seed = v;
      else sizes[a.slice(2)] = v;
    } else if (a.startsWith('--')) flags.add(a.slice(2));
    else throw new Error(`unexpected argument ${a}`);
  }
  return { seed, json, sizes, flags };
}

/** Runs a suite from the command line: progress on stderr, the summary on stdout, exit 1 on any failure. */
export async function main(run: (args: CliArgs, log: (line: string) => void) => Promise<{ summary: Summary; failures: Failures }>): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => {
    if (!args.json) process.stderr.write(`${line}\n`);
  };
  try {
    const { summary, failures } = await run(args, log);
    const counts = failures.byClass();
    if (args.json) process.stdout.write(`${JSON.stringify({ ...summary, failures_by_class: counts }, null, 2)}\n`);
    else process.stdout.write(`${render(summary, counts)}\n`);
    process.exit(failures.total === 0 ? 0 : 1);
  } catch (err) {
    process.stderr.write(`the suite itself failed (seed ${args.seed}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  }
}

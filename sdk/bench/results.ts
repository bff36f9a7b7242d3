/**
 * `RESULTS.md`: the targets of one run (row, figure, target, PASS/FAIL) and the machine it ran on, written only when
 * the bench is given `--write-results`, so that casual runs leave the tree as it was.
 */

import { writeFile } from 'node:fs/promises';
import { cpus, release, type, arch } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TargetLine } from './harness.ts';

export const RESULTS_PATH = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function resultsMarkdown(lines: TargetLine[], run: { quick: boolean; groups: string[]; seconds: number; date: Date }): string {
  const cpu = cpus();
  const passed = lines.filter((l) => l.pass).length;
  return [
    '# CRA bench results',
    '',
    `Written by \`npm run bench -- --write-results\`${run.quick ? ' (quick mode: shorter samples, rougher figures)' : ''}; groups: ${run.groups.join(', ')}.`,
    'Medians; every baseline was measured in the same run. Timing targets never fail the run: read them with the machine below.',
    'KB = 1000 bytes.',
    '',
    '| group | row | figure | target | status |',
    '|---|---|---|---|---|',
    ...lines.map((l) => `| ${cell(l.group)} | ${cell(l.name)} | ${cell(l.value)} | ${cell(l.target)} | ${l.pass ? 'PASS' : 'FAIL'} |`),
    '',
    `${passed} of ${lines.length} targets met.`,
    '',
    '## Machine',
    '',
    `- CPU: ${cpu[0]?.model ?? 'unknown'} (${cpu.length} cores)`,
    `- Node: ${process.version}`,
    `- OS: ${type()} ${release()} (${arch()})`,
    `- Date: ${run.date.toISOString()}`,
    `- Run time: ${run.seconds.toFixed(0)} s`,
    '',
  ].join('\n');
}

export async function writeResults(lines: TargetLine[], run: { quick: boolean; groups: string[]; seconds: number; date: Date }): Promise<void> {
  await writeFile(RESULTS_PATH, resultsMarkdown(lines, run));
}

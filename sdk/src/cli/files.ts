/**
 * Reading the files a command is given: one wording for a file that cannot be read, whichever command reads it.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';

/** The text of `file`; throws `cannot read [what ]<file>: <reason>` (e.g. `what` = `the key file`). */
export async function readText(file: string, what?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what ? `${what} ` : ''}${file}: ${(err as Error).message}`);
  }
}

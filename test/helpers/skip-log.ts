// Every test that may skip says why through here: the reason is printed once, and when LSR_SKIP_LOG
// names a file (CI sets it) a line {file, scope, reason} is appended to it, so that .ci/check-skips.mjs
// can match each skipped test of the run against .ci/allowed-skips.txt. A skipped test whose file
// registered no reason for it fails CI.
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Registers why the tests titled `scope` (a describe or test title; '' for the whole file) of the test
 * file `fileUrl` (pass import.meta.url) skip, when `reason` is not null. Returns `reason`, so that
 * `describe.skipIf(skipBecause(...) !== null)` reads in one place.
 */
export function skipBecause(fileUrl: string, scope: string, reason: string | null): string | null {
  if (reason === null) return null;
  const file = relative(root, fileURLToPath(fileUrl));
  console.warn(`[skip] ${file}${scope ? ` > ${scope}` : ''}: ${reason}`);
  const log = process.env.LSR_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ file, scope, reason })}\n`);
  return reason;
}

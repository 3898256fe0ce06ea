#!/usr/bin/env node
// Usage: check-skips.mjs <vitest JSON report> <skip log> <allowed-skips.txt> <tally file> [tally label, default vitest]
// Every skipped test of the vitest run must have a reason registered in the skip log (by
// test/helpers/skip-log.ts, {file, scope, reason} per line) that matches a line of the allowed list.
// Prints each reason once with the number of tests it skipped, appends "vitest P F S" to the tally,
// and exits 1 when a skip has no reason or a reason that is not allowed.
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { relative } from 'node:path';

const [reportPath, logPath, allowedPath, tallyPath, label = 'vitest'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const allowed = readFileSync(allowedPath, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => new RegExp(l));
const registered = existsSync(logPath)
  ? readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  : [];

const SKIPPED = new Set(['skipped', 'pending', 'todo', 'disabled']);
const byReason = new Map(); // reason -> number of tests
const unexplained = [];
let skipped = 0;
for (const file of report.testResults) {
  const rel = relative(process.cwd(), file.name);
  for (const t of file.assertionResults) {
    if (!SKIPPED.has(t.status)) continue;
    skipped++;
    const titles = [...t.ancestorTitles, t.title];
    // The registration for this test: same file, scope '' (whole file) or a describe/test title of it.
    const reg = registered.filter((r) => r.file === rel && (r.scope === '' || titles.includes(r.scope)));
    const full = `${rel} > ${titles.join(' > ')}`;
    if (reg.length === 0) unexplained.push(full);
    // A test under several registrations (e.g. describe and file) takes the most specific one.
    const r = reg.find((x) => x.scope !== '') ?? reg[0];
    if (r) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
  }
}

let bad = 0;
if (byReason.size) console.log('skipped tests, by reason:');
for (const [reason, n] of byReason) {
  const ok = allowed.some((re) => re.test(reason));
  if (!ok) bad++;
  console.log(`  ${ok ? 'allowed    ' : 'NOT ALLOWED'} ${n} test${n === 1 ? '' : 's'}: ${reason}`);
}
for (const u of unexplained) console.log(`  NO REASON   ${u}`);
const passed = report.numPassedTests;
const failed = report.numFailedTests;
if (tallyPath) appendFileSync(tallyPath, `${label} ${passed} ${failed} ${skipped}\n`);
if (bad || unexplained.length) {
  console.log(
    `check-skips: ${bad} skip reason(s) not in ${allowedPath} and ${unexplained.length} skipped test(s) without a registered reason`,
  );
  process.exit(1);
}
console.log(`check-skips: ${skipped} skipped test(s), every reason allowed by ${allowedPath}`);

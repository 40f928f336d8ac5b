// Prints per-suite counts from vitest's JSON reports, the reason for every
// skipped test, and one closing line "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...suites] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = false;
for (const suite of suites) {
  let report;
  try {
    report = JSON.parse(readFileSync(join(dir, `${suite}.json`), 'utf8'));
  } catch {
    console.log(`${suite}: no report (the suite did not run)`);
    missing = true;
    continue;
  }
  const tests = report.testResults.flatMap((file) => file.assertionResults);
  const count = (status) => tests.filter((t) => t.status === status).length;
  const p = count('passed');
  const f = count('failed');
  const s = tests.length - p - f;
  passed += p;
  failed += f;
  skipped += s;
  // A suite that ran no test at all is a failure, not a pass.
  const empty = tests.length === 0;
  if (empty) missing = true;
  console.log(`${suite}: ${p} passed, ${f} failed, ${s} skipped${empty ? ' (NO TESTS RAN)' : ''}`);
  for (const t of tests.filter((t) => t.status !== 'passed' && t.status !== 'failed')) {
    console.log(`  skipped: ${t.fullName}`);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing ? 1 : 0);

// Reads vitest's JSON report and fails unless every suite that needs Postgres or Redis
// (files named *.postgres.test.ts or *.redis.test.ts) ran with at least one passing test and nothing skipped.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const suites = report.testResults.filter((file) => /\.(postgres|redis)\.test\.ts$/.test(file.name));
let ok = suites.length > 0;
if (!ok) console.error('no Postgres/Redis suites found in the report');
for (const suite of suites) {
  const counts = { passed: 0, other: 0 };
  for (const test of suite.assertionResults) counts[test.status === 'passed' ? 'passed' : 'other'] += 1;
  const fine = suite.status === 'passed' && counts.passed > 0 && counts.other === 0;
  console.log(
    `${fine ? 'ran' : 'DID NOT RUN'}: ${suite.name} (${counts.passed} passed, ${counts.other} not)`,
  );
  ok &&= fine;
}
// The plain closing line CI reads.
console.log(
  `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
);
process.exit(ok ? 0 : 1);

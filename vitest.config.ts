import { defineConfig } from 'vitest/config';

// One run covers every package. In CI a JSON report is written so that .ci/run can
// prove the Postgres and Redis suites actually ran (a skipped suite must not pass CI).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});

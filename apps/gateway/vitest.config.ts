import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'gateway',
    // Integration suites start servers and databases; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

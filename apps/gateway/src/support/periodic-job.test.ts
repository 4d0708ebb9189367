import { describe, expect, it } from 'vitest';
import { PeriodicJob } from './periodic-job.ts';

describe('PeriodicJob', () => {
  it('runs its pass every interval after the first delay, joins a pass under way, and stop() waits for it', async () => {
    let passes = 0;
    let release: (() => void) | undefined;
    const job = new PeriodicJob(
      () =>
        new Promise<number>((resolve) => {
          passes++;
          release = () => resolve(passes);
        }),
      30,
      10,
    );
    job.start();
    await new Promise((r) => setTimeout(r, 25));
    expect(passes).toBe(1);
    // A pass asked for while one runs is that pass.
    const joined = job.runOnce();
    expect(passes).toBe(1);
    release!();
    expect(await joined).toBe(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(passes).toBe(2);
    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false);
    expect(job.stopped).toBe(true);
    release!();
    await stopping;
    await new Promise((r) => setTimeout(r, 60));
    expect(passes).toBe(2);
  });
});

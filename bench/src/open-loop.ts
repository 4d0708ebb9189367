import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface OpenLoopResult {
  rate: number;
  sent: number;
  failed: number;
  /** Microseconds, from when each request was due or sent, whichever came first (queueing included). */
  latency: { p50: number; p99: number; p999: number };
  /** Time to the first body byte, counted the same way. */
  firstByte: { p50: number; p99: number; p999: number };
}

export interface OpenLoopOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  rate: number;
  durationMs: number;
}

const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });

/**
 * A fixed rate of requests, whatever the server's pace: each request is due at its slot and
 * sent then (late slots are sent at once), and its latency counts from its slot (or from when
 * it was sent, if that was earlier), so a server that falls behind shows it (no coordinated
 * omission, unlike a closed loop).
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(options.origin, { connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
  const latency = histogram();
  const firstByte = histogram();
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  let failed = 0;
  const inFlight: Promise<void>[] = [];

  const send = async (due: number) => {
    // Counted from its slot, or from when it was sent if that was earlier (waits under a
    // millisecond are not slept): counting from the slot would then read less than the server
    // took, down to nothing.
    const from = Math.min(due, performance.now());
    try {
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path: options.path,
        headers: options.headers,
        body: options.body,
      });
      let first = true;
      for await (const _ of body) {
        if (first) {
          firstByte.recordValue(Math.max(1, Math.round((performance.now() - from) * 1000)));
          first = false;
        }
      }
      if (statusCode >= 400) failed += 1;
      else latency.recordValue(Math.max(1, Math.round((performance.now() - from) * 1000)));
    } catch {
      failed += 1;
    }
  };

  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(due));
  }
  await Promise.all(inFlight);
  await pool.close();
  const pick = (h: hdr.Histogram) => ({
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
  });
  return { rate: options.rate, sent: total, failed, latency: pick(latency), firstByte: pick(firstByte) };
}

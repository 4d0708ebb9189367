import { Agent, request } from 'node:http';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Graceful shutdown in one process: a client that keeps its keep-alive connection busy is told
 * `Connection: close` and cannot hold the process for the grace period, and streams cut at the
 * grace deadline still get their spend rows written before the last flush.
 */
const started: TestGateway[] = [];
afterAll(async () => {
  for (const t of started) await t.close();
});

/** GET over one keep-alive connection; resolves with the status and the `connection` header. */
function get(agent: Agent, url: string, key: string): Promise<{ status: number; connection: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown', () => {
  it('answers Connection: close to a busy keep-alive client and exits once in-flight work ends', async () => {
    const t = await startTestGateway('postgres', { shutdownDelayMs: 300, shutdownGraceMs: 5_000 });
    started.push(t);
    const key = await t.createKey();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const seen: { status: number; connection: string; afterStop: boolean }[] = [];
    let stopAt: number | undefined;
    let refused = false;
    const loop = (async () => {
      while (!refused) {
        try {
          const answer = await get(agent, `${t.gateway.url}/v1/models`, key);
          seen.push({ ...answer, afterStop: stopAt !== undefined });
        } catch {
          refused = true;
        }
      }
    })();
    while (seen.length < 5) await new Promise((r) => setTimeout(r, 5));
    stopAt = Date.now();
    await t.gateway.stop();
    const stoppedAfterMs = Date.now() - stopAt;
    await loop;
    agent.destroy();

    // The first may have been answered already when stop() began; every later one says close.
    const during = seen.filter((s) => s.afterStop).slice(1);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => s.connection === 'close')).toBe(true);
    expect(seen.filter((s) => !s.afterStop).every((s) => s.connection === 'keep-alive')).toBe(true);
    // The 300 ms delay, not the 5 s grace period.
    expect(stoppedAfterMs).toBeLessThan(1_500);
  });

  it('writes the spend rows of streams cut at the grace deadline', async () => {
    const t = await startTestGateway('postgres', { shutdownGraceMs: 300 });
    started.push(t);
    const key = await t.createKey();
    const slow = 'take your time [mock:reply_tokens=40] [mock:chunk_delay_ms=100]';
    const streams = [
      fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: slow }],
        }),
      }),
      fetch(`${t.gateway.url}/anthropic/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5-20250929',
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: slow }],
        }),
      }),
      fetch(`${t.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: slow }],
        }),
      }),
    ];
    const responses = await Promise.all(streams);
    const callIds = responses.map((r) => r.headers.get('x-litellm-call-id'));
    const readers = responses.map((r) => r.body!.getReader());
    await Promise.all(readers.map((reader) => reader.read()));
    // Keep reading, as a client would, until the gateway cuts them.
    const drained = readers.map(async (reader) => {
      try {
        while (!(await reader.read()).done) {}
      } catch {
        // cut
      }
    });
    await t.gateway.stop();
    await Promise.all(drained);

    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ request_id: string; status: string; completion_tokens: number }>(
        'select request_id, status, completion_tokens from "LiteLLM_SpendLogs" where request_id = any($1::text[])',
        [callIds],
      );
      expect(rows.rows.map((r) => r.request_id).sort()).toEqual([...callIds].sort());
      for (const row of rows.rows) {
        expect(row.status).toBe('failure');
        expect(row.completion_tokens).toBeGreaterThan(0);
      }
    } finally {
      await client.end();
    }
  });
});

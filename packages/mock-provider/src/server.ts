import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  mockChatRequestSchema,
  planCompletion,
  toCompletionBody,
  toErrorBody,
  toStreamPayloads,
} from './openai/chat-completions.ts';

export interface MockProviderOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** When set, only this API key is accepted; otherwise any non-empty key is. */
  apiKey?: string;
  /** Pause between stream chunks, ms (0 = none). */
  chunkDelayMs?: number;
  /** How many recent request bodies to keep for assertions (bounded, so benchmarks stay flat). */
  keepRequests?: number;
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface MockProvider {
  /** `http://host:port` */
  origin: string;
  /** The OpenAI-style base URL to put in `api_base`: `http://host:port/v1`. */
  openaiBaseUrl: string;
  /** The most recent requests, oldest first. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP server that answers like the vendors do, field for field
 * (provider-wire-formats.md), for tests, benchmarks and the offline demo.
 * Today it speaks OpenAI Chat Completions, streaming and not.
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const keep = options.keepRequests ?? 50;
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, toErrorBody(500));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
      return sendJson(res, 404, {
        error: {
          message: `Unknown route ${req.method} ${path}`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    }
    const raw = await readBody(req);
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!presented || (options.apiKey !== undefined && presented !== options.apiKey)) {
      return sendJson(res, 401, toErrorBody(401));
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, {
        error: {
          message: 'We could not parse the JSON body of your request.',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    }
    if (keep > 0) {
      requests.push({ path, headers: req.headers, body: json });
      if (requests.length > keep) requests.shift();
    }
    const parsed = mockChatRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendJson(res, 400, {
        error: {
          message: `Invalid request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
          type: 'invalid_request_error',
          param: issue?.path.join('.') ?? null,
          code: null,
        },
      });
    }
    const plan = planCompletion(parsed.data);
    if (plan.errorStatus !== undefined) {
      // OpenAI tells a rate-limited caller when to come back.
      const headers: Record<string, string> = plan.errorStatus === 429 ? { 'retry-after': '7' } : {};
      return sendJson(res, plan.errorStatus, toErrorBody(plan.errorStatus), headers);
    }
    if (!parsed.data.stream) return sendJson(res, 200, toCompletionBody(plan));

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${plan.id}`,
    });
    const delayMs = plan.chunkDelayMs ?? options.chunkDelayMs ?? 0;
    const payloads = toStreamPayloads(plan, parsed.data.stream_options?.include_usage === true);
    for (const [i, payload] of payloads.entries()) {
      if (res.destroyed) return;
      // The role chunk comes first, so token n is payload n + 1.
      if (plan.cutAfter !== undefined && i === plan.cutAfter + 1) {
        // Let what was written reach the client first, then drop the connection.
        await sleep(20);
        res.destroy();
        return;
      }
      if (plan.cutAfter === undefined) res.write(`data: ${payload}\n\n`);
      else await new Promise<void>((resolve) => res.write(`data: ${payload}\n\n`, () => resolve()));
      if (delayMs) await sleep(delayMs);
    }
    res.end();
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const origin = `http://${host}:${port}`;
  return {
    origin,
    openaiBaseUrl: `${origin}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': 'req_mock',
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  mockMessagesRequestSchema,
  planMessage,
  toAnthropicErrorBody,
  toInvalidRequestMessage,
  toMessageBody,
  toMessageStreamEvents,
  toSseFrame,
} from './anthropic/messages.ts';
import { answerDeepSeekChat, toDeepSeekErrorBody } from './deepseek/chat-completions.ts';
import { readDirectives } from './directives.ts';
import type { MockAnswer, MockStreamAnswer } from './mock-answer.ts';
import { answerOllamaChat } from './ollama/chat.ts';
import { answerOllamaEmbed } from './ollama/embed.ts';
import { toOllamaErrorBody } from './ollama/errors.ts';
import { answerOllamaGenerate } from './ollama/generate.ts';
import {
  mockChatRequestSchema,
  planCompletion,
  toCompletionBody,
  toErrorBody,
  toStreamPayloads,
} from './openai/chat-completions.ts';
import { answerTextCompletion } from './openai/completions.ts';
import { answerEmbeddings } from './openai/embeddings.ts';
import { answerOpenRouterChat, toOpenRouterErrorBody } from './openrouter/chat-completions.ts';

/** OpenAI's own rate-limit headers on every chat answer (fixed figures: the mock has no limits). */
const OPENAI_RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit-requests': '10000',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-limit-tokens': '30000000',
  'x-ratelimit-remaining-tokens': '29999000',
};

export interface MockProviderOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /**
   * When set, only this API key is accepted (OpenAI, DeepSeek, OpenRouter: `Authorization: Bearer`;
   * Anthropic: `x-api-key` or Bearer); otherwise any non-empty key is. Ollama routes take no key.
   */
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
  /**
   * The Anthropic base URL (`http://host:port`, the SDK's `baseURL`; clients append `/v1/messages`,
   * and `/messages` is answered too).
   */
  anthropicBaseUrl: string;
  /**
   * The DeepSeek base URL, `http://host:port/deepseek` (clients append `/chat/completions`; the
   * `/beta` and `/v1` prefixes are served too).
   */
  deepseekBaseUrl: string;
  /** The OpenRouter base URL, `http://host:port/openrouter/api/v1` (`/chat/completions`, `/embeddings`). */
  openrouterBaseUrl: string;
  /** The Ollama base URL, `http://host:port` (clients append `/api/chat`, `/api/generate`, `/api/embed`). */
  ollamaBaseUrl: string;
  /** The most recent requests, oldest first. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP server that answers like the vendors do, field for field
 * (provider-wire-formats.md), for tests, benchmarks and the offline demo, and resolves to its
 * address, the recorded requests and `close()`. It speaks, streaming and not:
 * - OpenAI Chat Completions at `POST /v1/chat/completions` and `/chat/completions` (§1),
 *   legacy completions at `/v1/completions` and `/completions` (§1.5), embeddings at
 *   `/v1/embeddings` and `/embeddings` (§1.6),
 * - Anthropic Messages at `POST /v1/messages` and `/messages` (§2: `x-api-key` or Bearer,
 *   `anthropic-version` required, named SSE events, thinking and tool use),
 * - DeepSeek chat at `POST /deepseek/chat/completions`, `/deepseek/beta/chat/completions` and
 *   `/deepseek/v1/chat/completions` (§6: cache hit/miss usage, `reasoning_content`, `: keep-alive`),
 * - OpenRouter chat at `POST /openrouter/api/v1/chat/completions` and embeddings at
 *   `/openrouter/api/v1/embeddings` (§8: usage with `cost` always, `: OPENROUTER PROCESSING`,
 *   its own error shapes),
 * - Ollama at `POST /api/chat`, `/api/generate`, `/api/embed` (§7: no key, NDJSON streams by
 *   default, `{"error": "..."}` errors),
 * - `GET /health`.
 * Answers are steered by `[mock:...]` directives in the messages (see `readDirectives`).
 * Rejects only if the port can't be bound.
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const keep = options.keepRequests ?? 50;
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      const path = req.url?.split('?')[0] ?? '';
      const route = routes.get(path);
      if (res.headersSent) res.destroy();
      else if (isMessagesPath(path)) sendAnthropicError(res, 500);
      else if (route) sendJson(res, 500, route.toErrorBody(500));
      else sendJson(res, 500, toErrorBody(500));
    });
  });

  function record(path: string, req: IncomingMessage, body: unknown): void {
    if (keep <= 0) return;
    requests.push({ path, headers: req.headers, body });
    if (requests.length > keep) requests.shift();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'POST' && isMessagesPath(path)) return handleMessages(req, res, path);
    const route = req.method === 'POST' ? routes.get(path) : undefined;
    if (route) return handleRoute(route, req, res, path);
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
    // Latency applies before anything else, so a caller's header timeout can be tested.
    const { latencyMs } = readDirectives([raw]);
    if (latencyMs) await sleep(latencyMs);
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
    record(path, req, json);
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
      return sendJson(res, plan.errorStatus, toErrorBody(plan.errorStatus, plan.errorMessage), headers);
    }
    if (!parsed.data.stream) return sendJson(res, 200, toCompletionBody(plan), OPENAI_RATE_LIMIT_HEADERS);

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${plan.id}`,
      ...OPENAI_RATE_LIMIT_HEADERS,
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

  /** Anthropic Messages (§2): auth, version header, body check, then the planned answer. */
  async function handleMessages(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    // Latency applies before anything else, so a caller's header timeout can be tested.
    const { latencyMs } = readDirectives([raw]);
    if (latencyMs) await sleep(latencyMs);
    const apiKey = req.headers['x-api-key'];
    const presented =
      (typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined) ??
      /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!presented) return sendAnthropicError(res, 401, 'x-api-key header is required');
    if (options.apiKey !== undefined && presented !== options.apiKey) {
      return sendAnthropicError(res, 401, 'invalid x-api-key');
    }
    if (!req.headers['anthropic-version']) {
      return sendAnthropicError(res, 400, 'anthropic-version: header is required');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendAnthropicError(res, 400, 'The request body is not valid JSON.');
    }
    record(path, req, json);
    const parsed = mockMessagesRequestSchema.safeParse(json);
    if (!parsed.success) {
      return sendAnthropicError(res, 400, toInvalidRequestMessage(parsed.error.issues, json));
    }
    const plan = planMessage(parsed.data);
    if (plan.errorStatus !== undefined) return sendAnthropicError(res, plan.errorStatus, plan.errorMessage);
    const requestId = `req_${plan.id.slice('msg_'.length)}`;
    if (!parsed.data.stream) return sendJson(res, 200, toMessageBody(plan), { 'request-id': requestId });

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': requestId,
    });
    const delayMs = plan.chunkDelayMs ?? options.chunkDelayMs ?? 0;
    const events = toMessageStreamEvents(plan);
    // A stream that ends in neither message_stop nor error was cut by `[mock:cut_after=N]`.
    const isCut = !['message_stop', 'error'].includes(events.at(-1)?.event ?? '');
    for (const event of events) {
      if (res.destroyed) return;
      if (!isCut) res.write(toSseFrame(event));
      else await new Promise<void>((resolve) => res.write(toSseFrame(event), () => resolve()));
      if (delayMs) await sleep(delayMs);
    }
    if (isCut) {
      // Let what was written reach the client first, then drop the connection.
      await sleep(20);
      res.destroy();
      return;
    }
    res.end();
  }

  /**
   * A route whose answer its vendor's pure code decides (`MockAnswer`): latency, key check, JSON,
   * recording, then the answer is written as JSON, as a stream, or as an error in the route's shape.
   */
  async function handleRoute(
    route: MockRoute,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const raw = await readBody(req);
    // Latency applies before anything else, so a caller's header timeout can be tested.
    const { latencyMs } = readDirectives([raw]);
    if (latencyMs) await sleep(latencyMs);
    const sendError = (status: number, message?: string) =>
      sendJson(res, status, route.toErrorBody(status, message), status === 429 ? { 'retry-after': '7' } : {});
    if (route.auth === 'bearer') {
      const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!presented || (options.apiKey !== undefined && presented !== options.apiKey)) return sendError(401);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendError(400, 'We could not parse the JSON body of your request.');
    }
    record(path, req, json);
    const answer = route.answer(json);
    if (answer.kind === 'error') return sendError(answer.status, answer.message);
    if (answer.kind === 'json') return sendJson(res, 200, answer.body, answer.headers);
    return writeStream(res, answer, options.chunkDelayMs ?? 0);
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
    anthropicBaseUrl: origin,
    deepseekBaseUrl: `${origin}/deepseek`,
    openrouterBaseUrl: `${origin}/openrouter/api/v1`,
    ollamaBaseUrl: origin,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A route answered by its vendor's pure code, and the error shape it answers failures in. */
interface MockRoute {
  /** `bearer`: `Authorization: Bearer <key>` required (the configured key, if any); `none`: Ollama. */
  auth: 'bearer' | 'none';
  answer(body: unknown): MockAnswer;
  toErrorBody(status: number, message?: string): unknown;
}

const openaiRoute = (answer: MockRoute['answer']): MockRoute => ({ auth: 'bearer', answer, toErrorBody });
const deepseekChat: MockRoute = {
  auth: 'bearer',
  answer: answerDeepSeekChat,
  toErrorBody: toDeepSeekErrorBody,
};
const openrouterRoute = (answer: MockRoute['answer']): MockRoute => ({
  auth: 'bearer',
  answer,
  toErrorBody: toOpenRouterErrorBody,
});
// Local Ollama has no auth (§7); a key sent anyway is recorded, not checked.
const ollamaRoute = (answer: MockRoute['answer']): MockRoute => ({
  auth: 'none',
  answer,
  toErrorBody: toOllamaErrorBody,
});

/** Every `MockRoute` by path; the OpenAI chat and Anthropic routes have handlers of their own. */
const routes = new Map<string, MockRoute>([
  ['/v1/completions', openaiRoute(answerTextCompletion)],
  ['/completions', openaiRoute(answerTextCompletion)],
  ['/v1/embeddings', openaiRoute(answerEmbeddings)],
  ['/embeddings', openaiRoute(answerEmbeddings)],
  ['/deepseek/chat/completions', deepseekChat],
  ['/deepseek/beta/chat/completions', deepseekChat],
  ['/deepseek/v1/chat/completions', deepseekChat],
  ['/openrouter/api/v1/chat/completions', openrouterRoute(answerOpenRouterChat)],
  ['/openrouter/api/v1/embeddings', openrouterRoute(answerEmbeddings)],
  ['/api/chat', ollamaRoute(answerOllamaChat)],
  ['/api/generate', ollamaRoute(answerOllamaGenerate)],
  ['/api/embed', ollamaRoute(answerOllamaEmbed)],
]);

/**
 * Writes a planned stream frame by frame, pausing `chunkDelayMs` (the directive's, else the server
 * option's) after each; a cut stream's frames are flushed before the connection is dropped.
 */
async function writeStream(
  res: ServerResponse,
  answer: MockStreamAnswer,
  defaultDelayMs: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': answer.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson',
    'cache-control': 'no-cache',
    ...answer.headers,
  });
  const delayMs = answer.chunkDelayMs ?? defaultDelayMs;
  for (const frame of answer.frames) {
    if (res.destroyed) return;
    if (!answer.dropConnection) res.write(frame);
    else await new Promise<void>((resolve) => res.write(frame, () => resolve()));
    if (delayMs) await sleep(delayMs);
  }
  if (answer.dropConnection) {
    // Let what was written reach the client first, then drop the connection.
    await sleep(20);
    res.destroy();
    return;
  }
  res.end();
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

function isMessagesPath(path: string): boolean {
  return path === '/v1/messages' || path === '/messages';
}

/**
 * Sends Anthropic's error body (§2.5) with its `request-id` header; 429 and 529 also say when to
 * come back, as Anthropic does.
 */
function sendAnthropicError(res: ServerResponse, status: number, message?: string): void {
  const body = toAnthropicErrorBody(status, message);
  const retry: Record<string, string> = status === 429 || status === 529 ? { 'retry-after': '7' } : {};
  sendJson(res, status, body, { 'request-id': body.request_id, ...retry });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

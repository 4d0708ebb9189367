import { priceUsage } from '@gateway/pricing';
import {
  anthropicMessageSchema,
  fromAnthropicMessage,
  fromAnthropicStream,
  parseSse,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { authorizeModelCall } from '../services/authorize-model-call.ts';
import type { FinishRequestEvent } from '../services/finish-request-event.ts';
import { meterStream } from '../services/meter-stream.ts';
import { resolveEndUser, resolveTags } from '../services/request-attribution.ts';
import { type ModelCall, producedOutput } from '../services/request-event.ts';

/**
 * What the pass-through relays: per-request endpoints only. Batches, files and the like live in
 * the operator's Anthropic account, where one key could read another's.
 */
const relayedPaths = [
  /^\/anthropic\/v1\/messages$/,
  /^\/anthropic\/v1\/messages\/count_tokens$/,
  /^\/anthropic\/v1\/complete$/,
  /^\/anthropic\/v1\/models(\/[^/]+)?$/,
];

/** Response headers that belong to one hop and are not relayed. */
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function relayHeaders(upstream: Record<string, string>, requestId: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upstream)) if (!hopByHop.has(name)) headers.set(name, value);
  headers.set('x-litellm-call-id', requestId);
  return headers;
}

async function drain(stream: ReadableStream<unknown>): Promise<void> {
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // Reading is the point: the meter records usage as the events pass.
  }
}

/**
 * `/anthropic/*`: Anthropic's own API through the gateway (wire formats §5.5). The caller's
 * virtual key (`x-api-key` or `Authorization`) is checked and replaced by the gateway's
 * Anthropic key; `litellm_metadata` is read for the end user and tags, then removed; the answer
 * is relayed byte for byte. `POST /v1/messages` calls are priced from the usage they report,
 * streamed or not, and leave a spend row (`call_type` `pass_through_endpoint`).
 */
export function anthropicPassthroughRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  const { client, apiBase, apiKey } = deps.anthropicPassthrough;

  async function handle(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const method = c.req.method;
    const url = new URL(c.req.url);
    if (!relayedPaths.some((pattern) => pattern.test(url.pathname))) {
      throw new GatewayHttpError({
        kind: 'forbidden',
        type: 'permission_error',
        message: `${url.pathname.slice('/anthropic'.length)} is not available through the pass-through: batches, files and account endpoints would share the gateway's Anthropic account between keys.`,
      });
    }
    const path = url.pathname.slice('/anthropic'.length) + url.search;
    let body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.text();
    let json: Record<string, unknown> | undefined;
    if (body) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          json = parsed as Record<string, unknown>;
      } catch {
        // Not JSON (a file upload, say): relayed as it is.
      }
    }
    const headers = c.req.raw.headers;
    const endUser = json ? resolveEndUser(headers, json) : undefined;
    const caller = c.get('caller');
    const tags = json ? resolveTags(headers, json, caller.kind === 'virtual' ? caller.key.metadata : {}) : [];
    // Key and team model lists apply here too, to the upstream model id (or `anthropic/<id>`).
    const model = typeof json?.model === 'string' ? json.model : undefined;
    await authorizeModelCall(deps.lookups, caller, model && `anthropic/${model}`, endUser, model);
    if (json && 'litellm_metadata' in json) {
      delete json.litellm_metadata;
      body = JSON.stringify(json);
    }

    const isMessages =
      method === 'POST' && url.pathname === '/anthropic/v1/messages' && typeof json?.model === 'string';
    let call: ModelCall | undefined;
    if (isMessages && json) {
      const model = String(json.model);
      call = {
        callType: 'pass_through_endpoint',
        modelGroup: model,
        deploymentId: 'anthropic-passthrough',
        provider: 'anthropic',
        apiBase,
        upstreamModel: model,
        stream: json.stream === true,
        usage: {},
        tags,
        ...(endUser ? { endUser } : {}),
      };
      event.call = call;
    }

    const forwarded: Record<string, string> = {};
    headers.forEach((value, name) => {
      if (name.startsWith('anthropic-') || name === 'content-type' || name === 'accept')
        forwarded[name] = value;
    });
    const response = await client.forward(
      { method, path, headers: forwarded, ...(body !== undefined ? { body } : {}) },
      { apiBase, ...(apiKey ? { apiKey } : {}), signal: c.req.raw.signal },
    );
    if (!response.ok) throw new GatewayHttpError(response.error);
    const { status, headers: upstreamHeaders, body: bytes } = response.value;
    const outHeaders = relayHeaders(upstreamHeaders, event.requestId);
    if (!call || status >= 400) return new Response(bytes, { status, headers: outHeaders });

    const price = () =>
      priceUsage({
        provider: 'anthropic',
        model: call.upstreamModel,
        usage: call.usage,
        at: event.startedAt,
      });
    if (call.stream) {
      const [toClient, toMeter] = bytes.tee();
      event.deferred = true;
      const metered = meterStream(parseSse(toMeter).pipeThrough(fromAnthropicStream()), call, (result) => {
        if (result.outcome === 'success' || producedOutput(call)) call.price = price();
        event.outcome = result.outcome;
        if (result.outcome === 'failure') event.error = result.error;
        finish(event, status);
      });
      void drain(metered).catch(() => {});
      return new Response(toClient, { status, headers: outHeaders });
    }
    const raw = new Uint8Array(await new Response(bytes).arrayBuffer());
    try {
      const message = anthropicMessageSchema.parse(JSON.parse(new TextDecoder().decode(raw)));
      const result = fromAnthropicMessage(message);
      call.usage = result.usage;
      call.responseModel = result.model;
      call.providerResponseId = result.id;
      call.price = price();
    } catch {
      // Relayed anyway; the row records the usage as unknown.
      call.price = price();
    }
    return new Response(raw, { status, headers: outHeaders });
  }

  const app = new Hono<AppEnv>();
  app.all(
    '/anthropic/*',
    async (c, next) => {
      c.set('dialect', 'anthropic');
      await next();
    },
    authenticate(deps),
    handle,
  );
  return app;
}

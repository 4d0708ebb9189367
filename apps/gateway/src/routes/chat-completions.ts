import { type PriceResult, priceUsage } from '@gateway/pricing';
import {
  fromOpenAIChatRequest,
  openAIChatRequestSchema,
  toOpenAIChatResponse,
  toOpenAIStream,
  type UpstreamResponseInfo,
  type Usage,
  upstreamOverrideFields,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv, Caller } from '../app-env.ts';
import type { Deployment } from '../config/gateway-config.ts';
import { GatewayHttpError, toErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { authorizeModelCall } from '../services/authorize-model-call.ts';
import type { FinishRequestEvent } from '../services/finish-request-event.ts';
import { meterStream } from '../services/meter-stream.ts';
import { resolveEndUser, resolveTags } from '../services/request-attribution.ts';
import { type ModelCall, producedOutput } from '../services/request-event.ts';
import { parseJsonBody } from './parse-json-body.ts';

function priceCall(deployment: Deployment, usage: Usage, at: Date): PriceResult {
  return priceUsage({
    provider: deployment.provider,
    model: deployment.upstreamModel,
    usage,
    at,
    overrides: deployment.priceOverrides,
    // Only OpenRouter's reported cost is trusted; any other upstream could set its own price.
    ...(deployment.provider === 'openrouter' && usage.providerCostUsd !== undefined
      ? { providerCostUsd: usage.providerCostUsd }
      : {}),
  });
}

/**
 * LiteLLM's informational headers on model routes (contract §7); empty values are left out.
 * Every upstream header comes along prefixed `llm_provider-`, and the upstream's own
 * `x-ratelimit-*` headers as they are.
 */
function callHeaders(
  caller: Caller,
  deployment: Deployment,
  price: PriceResult | undefined,
  upstream: UpstreamResponseInfo,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    headers[`llm_provider-${name}`] = value;
    if (name.startsWith('x-ratelimit-')) headers[name] = value;
  }
  headers['x-litellm-model-group'] = deployment.modelName;
  headers['x-litellm-model-id'] = deployment.deploymentId;
  headers['x-litellm-model-api-base'] = deployment.apiBase;
  if (price?.priced) headers['x-litellm-response-cost'] = price.costUsd;
  if (caller.kind === 'virtual') {
    headers['x-litellm-key-spend'] = caller.key.spend;
    if (caller.key.maxBudget !== null) headers['x-litellm-key-max-budget'] = caller.key.maxBudget;
  }
  return headers;
}

/** `POST /v1/chat/completions` and `/chat/completions`: OpenAI format in and out, any provider. */
export function chatCompletionRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleChatCompletion(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const caller = c.get('caller');
    const raw = await parseJsonBody(c.req.raw);
    const parsed = openAIChatRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || undefined;
      throw new GatewayHttpError({
        kind: 'invalid_request',
        message: `Invalid request body: ${param ? `${param}: ` : ''}${issue?.message ?? 'invalid'}`,
        ...(param ? { param } : {}),
      });
    }
    const body = parsed.data;
    const override = upstreamOverrideFields.find((field) => body[field] !== undefined);
    if (override) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: override,
        message: `${override} may not be set in the request body: upstreams and their keys come from the gateway's config.`,
      });
    }
    const deployment = deps.router.pick(body.model);
    if (!deployment) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Invalid model name passed in model=${body.model}. Call \`/v1/models\` to view available models for your key.`,
      });
    }
    const headers = c.req.raw.headers;
    const endUser = resolveEndUser(headers, raw as Record<string, unknown>);
    await authorizeModelCall(deps.lookups, caller, deployment.modelName, endUser);
    const adapter = deps.adapters.get(deployment.provider);
    if (!adapter) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Provider '${deployment.provider}' of model ${deployment.modelName} is not supported by this gateway yet.`,
      });
    }

    const request = { ...fromOpenAIChatRequest(body), model: deployment.upstreamModel };
    const call: ModelCall = {
      callType: 'acompletion',
      modelGroup: deployment.modelName,
      deploymentId: deployment.deploymentId,
      provider: deployment.provider,
      apiBase: deployment.apiBase,
      upstreamModel: deployment.upstreamModel,
      stream: request.stream,
      usage: {},
      tags: resolveTags(
        headers,
        raw as Record<string, unknown>,
        caller.kind === 'virtual' ? caller.key.metadata : {},
      ),
      ...(endUser ? { endUser } : {}),
    };
    event.call = call;
    const target = {
      apiBase: deployment.apiBase,
      ...(deployment.apiKey ? { apiKey: deployment.apiKey } : {}),
      signal: c.req.raw.signal,
    };

    if (!request.stream) {
      const response = await adapter.chat(request, target);
      if (!response.ok) throw new GatewayHttpError(response.error);
      const result = response.value.result;
      call.usage = result.usage;
      call.responseModel = result.model;
      call.providerResponseId = result.id;
      call.price = priceCall(deployment, result.usage, event.startedAt);
      return c.json(
        toOpenAIChatResponse(result),
        200,
        callHeaders(caller, deployment, call.price, response.value.upstream),
      );
    }

    const response = await adapter.chatStream(request, target);
    if (!response.ok) throw new GatewayHttpError(response.error);
    // From here the stream owns the wide event: it is closed when the stream ends.
    event.deferred = true;
    const metered = meterStream(response.value.events, call, (result) => {
      // Price whatever was used: unknown usage is recorded as unpriced, never as free.
      if (result.outcome === 'success' || producedOutput(call)) {
        call.price = priceCall(deployment, call.usage, event.startedAt);
      }
      event.outcome = result.outcome;
      if (result.outcome === 'failure') event.error = result.error;
      finish(event, 200);
    });
    const sse = metered
      .pipeThrough(
        toOpenAIStream({
          includeUsage: body.stream_options?.include_usage === true,
          renderError: (error) => toErrorBody(error, event.requestId),
        }),
      )
      .pipeThrough(new TextEncoderStream());
    return new Response(sse, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-litellm-call-id': event.requestId,
        ...callHeaders(caller, deployment, undefined, response.value.upstream),
      },
    });
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/chat/completions', auth, handleChatCompletion);
  app.post('/chat/completions', auth, handleChatCompletion);
  return app;
}

import {
  anthropicRequestSchema,
  bodyStream,
  type ChatRequest,
  fromAnthropicRequest,
  parseProviderModel,
  toAnthropicMessage,
  toAnthropicStreamTransformer,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { admissionHeaders } from '../admission/admission.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError, toAnthropicErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { authorizeModelCall } from '../model-call/authorize-model-call.ts';
import {
  callHeaders,
  headerSafe,
  type PreparedChat,
  prepareCall,
  priceCall,
  runChat,
  runChatStream,
} from '../model-call/model-call.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import { anthropicRequestHeaders, relayAnthropic } from './anthropic-relay.ts';
import { callInput } from './call-input.ts';
import { anthropicBetas, bodyEstimate, parseModelBody } from './model-body.ts';
import { modelJson, parseJsonBody, schemaRefusal } from './parse-json-body.ts';
import { sseResponse } from './sse-response.ts';

/** What the native relay appends itself: an `api_base` ending in `/v1` or `/v1/messages` loses it. */
const ANTHROPIC_ENDPOINT_SUFFIX = /\/v1(\/messages)?\/?$/;

const countTokensSchema = z.looseObject({ model: z.string().min(1), messages: z.array(z.unknown()).min(1) });

type Translated = { request: ChatRequest; dropped: string[] };

/**
 * An Anthropic Messages body in the canonical model, for a deployment that speaks another
 * format; a 400 naming the field when the body is malformed or holds what cannot be translated.
 */
function toCanonical(json: Record<string, unknown>): Translated {
  const parsed = anthropicRequestSchema.safeParse(json);
  if (!parsed.success) throw schemaRefusal(parsed.error, '');
  const translated = fromAnthropicRequest(parsed.data);
  if (!translated.ok) throw new GatewayHttpError(translated.error);
  return translated.value;
}

/**
 * `POST /v1/messages`: Anthropic's Messages format in and out, for every provider
 * (wire formats §5). The request goes through the canonical model to the deployment's adapter;
 * answers are rendered back as Anthropic messages or SSE events, errors in Anthropic's shape.
 */
export function messagesRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleMessages(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    // What the gateway itself needs, whichever road the call takes: relayed to Anthropic the
    // rest is Anthropic's to judge (clients send roles, blocks and settings we need not know);
    // translated, the full schema checks it below.
    const json = await parseModelBody(clientRequest(c));
    // Set by `check` when the deployment is not Anthropic's: the body in the canonical model.
    let translated: Translated | undefined;
    const input = callInput(c, {
      modelName: json.model as string,
      stream: json.stream === true,
      callType: 'anthropic_messages',
      body: json,
    });
    const prepared = await prepareCall(deps, input, {
      estimate: bodyEstimate(json),
      check: (deployment) => {
        if (deployment.provider !== 'anthropic') translated = toCanonical(json);
      },
    });
    if (!translated) {
      // Anthropic in, Anthropic out: relayed (wire formats §5.1) with only the model name
      // replaced and our own fields removed, so hosted tools, citations, every block type, role
      // and stop reason reach each side exactly as the other sent them; beta headers go along.
      const { litellm_metadata: _metadata, ...native } = json;
      const { deployment, call } = prepared;
      return relayAnthropic(c, {
        client: deps.anthropicPassthrough.client,
        method: 'POST',
        path: '/v1/messages',
        body: JSON.stringify({ ...native, model: deployment.upstreamModel }),
        target: {
          ...prepared.target,
          apiBase: prepared.target.apiBase.replace(ANTHROPIC_ENDPOINT_SUFFIX, ''),
        },
        call,
        finish,
        price: (usage, at) => priceCall(deployment, usage, at, call.callerChosenUpstream),
        ...(deployment.numRetries !== undefined ? { retries: deployment.numRetries } : {}),
        responseHeaders: {
          ...admissionHeaders(event.reservation),
          'x-litellm-model-group': headerSafe(deployment.modelName),
          'x-litellm-model-id': deployment.deploymentId,
          'x-litellm-model-api-base': deployment.apiBase,
        },
      });
    }
    // Content without a canonical form is reported with what the provider could not honour.
    const { request: canonical, dropped } = translated;
    const betas = anthropicBetas(clientRequest(c).headers.get('anthropic-beta'));
    if (betas) canonical.anthropicBeta = betas;
    const chat: PreparedChat = {
      ...prepared,
      request: { ...canonical, model: prepared.deployment.upstreamModel },
    };
    // Reported back as asked, without a provider prefix (wire formats §10).
    const model = parseProviderModel(canonical.model)?.model ?? canonical.model;

    if (!chat.request.stream) {
      const { result, ...info } = await runChat(chat, event.startedAt);
      info.droppedParams = [...dropped, ...info.droppedParams];
      chat.call.droppedParams = info.droppedParams;
      return modelJson(
        c,
        toAnthropicMessage(result, model),
        callHeaders(c.get('caller'), chat, info, event.requestId),
      );
    }
    const { events, ...info } = await runChatStream(chat, finish);
    info.droppedParams = [...dropped, ...info.droppedParams];
    chat.call.droppedParams = info.droppedParams;
    return sseResponse(
      c,
      events,
      toAnthropicStreamTransformer({
        model,
        renderError: (error) => toAnthropicErrorBody(error, event.requestId),
      }),
      callHeaders(c.get('caller'), chat, info, event.requestId),
    );
  }

  /**
   * `POST /v1/messages/count_tokens`: Anthropic deployments ask Anthropic; for other providers
   * the answer is an estimate (about four characters a token), since they have no such endpoint.
   */
  async function handleCountTokens(c: Context<AppEnv>): Promise<Response> {
    const raw = await parseJsonBody(clientRequest(c));
    const parsed = countTokensSchema.safeParse(raw);
    if (!parsed.success) throw schemaRefusal(parsed.error, '');
    const deployment = deps.router.pick(parsed.data.model);
    if (!deployment) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Invalid model name passed in model=${parsed.data.model}. Call \`/v1/models\` to view available models for your key.`,
      });
    }
    await authorizeModelCall(deps.lookups, c.get('caller'), deployment.modelName, undefined);
    if (deployment.provider !== 'anthropic') {
      return c.json({ input_tokens: Math.ceil(JSON.stringify(raw).length / 4) }, 200, {
        'x-gateway-estimated': 'true',
      });
    }
    const { litellm_metadata: _metadata, ...body } = raw as Record<string, unknown>;
    const forwarded = await deps.anthropicPassthrough.client.forward(
      {
        method: 'POST',
        path: '/v1/messages/count_tokens',
        headers: { ...anthropicRequestHeaders(c.req.raw.headers), 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, model: deployment.upstreamModel }),
      },
      {
        apiBase: deployment.apiBase.replace(ANTHROPIC_ENDPOINT_SUFFIX, ''),
        ...(deployment.apiKey ? { apiKey: deployment.apiKey } : {}),
        ...(deployment.extraHeaders ? { extraHeaders: deployment.extraHeaders } : {}),
        signal: clientRequest(c).signal,
      },
    );
    if (!forwarded.ok) throw new GatewayHttpError(forwarded.error);
    return new Response(bodyStream(forwarded.value.body), {
      status: forwarded.value.status,
      headers: { 'content-type': forwarded.value.headers['content-type'] ?? 'application/json' },
    });
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  const anthropicDialect = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    c.set('dialect', 'anthropic');
    await next();
  };
  for (const path of ['/v1/messages/count_tokens', '/messages/count_tokens']) {
    app.post(path, anthropicDialect, auth, handleCountTokens);
  }
  for (const path of ['/v1/messages', '/messages']) {
    app.post(
      path,
      async (c, next) => {
        c.set('dialect', 'anthropic');
        await next();
      },
      auth,
      handleMessages,
    );
  }
  return app;
}

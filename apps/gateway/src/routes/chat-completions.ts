import {
  type ChatRequest,
  fromOpenAIChatRequest,
  gatewayOwnedFields,
  openAIChatRequestSchema,
  toOpenAIChatResponse,
  toOpenAIStreamTransformer,
  toRelayTransformer,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { toErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import {
  callHeaders,
  type PreparedChat,
  prepareCall,
  priceCall,
  runChat,
  runChatStream,
  runRelayedChat,
  runStream,
} from '../model-call/model-call.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import { callInput } from './call-input.ts';
import { anthropicBetas, bodyEstimate, parseModelBody, promptSize } from './model-body.ts';
import { modelJson, schemaRefusal } from './parse-json-body.ts';
import { sseResponse } from './sse-response.ts';

/** An OpenAI Chat Completions body checked against the full schema, in the canonical model. */
function toCanonical(json: Record<string, unknown>, anthropicBeta: string | null): ChatRequest {
  const parsed = openAIChatRequestSchema.safeParse(json);
  if (!parsed.success) throw schemaRefusal(parsed.error);
  const request = fromOpenAIChatRequest(parsed.data);
  // Anthropic betas asked for on the OpenAI route reach Anthropic deployments (merged with ours).
  const betas = anthropicBetas(anthropicBeta);
  if (betas) request.anthropicBeta = betas;
  return request;
}

/** The client's body as relayed: addressed to the upstream model, without the gateway's own fields. */
function relayBody(json: Record<string, unknown>, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(json)) if (!gatewayOwnedFields.has(field)) body[field] = value;
  body.model = upstreamModel;
  return body;
}

/**
 * `POST /v1/chat/completions` and `/chat/completions`: OpenAI format in and out, any provider.
 * To a deployment that speaks OpenAI's format (OpenAI, DeepSeek, OpenRouter) the call is
 * relayed: the client's body goes as sent but for the documented edits, the answer comes back as
 * the upstream sent it. To others it is translated through the canonical model.
 */
export function chatCompletionRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleChatCompletion(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const json = await parseModelBody(clientRequest(c));
    const stream = json.stream === true;
    const includeUsage =
      (json.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    // Set by `check` when the deployment does not speak OpenAI's format: the canonical request.
    let translated: ChatRequest | undefined;
    const input = callInput(c, {
      modelName: json.model as string,
      stream,
      callType: 'acompletion',
      body: json,
    });
    const prepared = await prepareCall(deps, input, {
      estimate: bodyEstimate(json),
      check: (deployment) => {
        if (!deps.adapters.get(deployment.provider)?.relayChat)
          translated = toCanonical(json, clientRequest(c).headers.get('anthropic-beta'));
      },
    });
    const caller = c.get('caller');
    // The call's cost in a stream's final usage chunk, when the operator asks for it (LiteLLM's
    // `include_cost_in_streaming_usage`).
    const costOf = (usage: Parameters<typeof priceCall>[1]) => {
      if (!deps.includeCostInStreamingUsage) return undefined;
      const price = priceCall(
        prepared.deployment,
        usage,
        event.startedAt,
        prepared.call.callerChosenUpstream,
      );
      return price.priced ? price.costUsd : undefined;
    };
    const renderError = (error: Parameters<typeof toErrorBody>[0]) => toErrorBody(error, event.requestId);

    if (!translated) {
      const body = relayBody(json, prepared.deployment.upstreamModel);
      if (!stream) {
        const { relayed, ...info } = await runRelayedChat(prepared, body, event.startedAt);
        c.set('callIdSent', true);
        return new Response(relayed.body, {
          status: 200,
          headers: {
            'content-type': 'application/json',
            ...callHeaders(caller, prepared, info, event.requestId),
          },
        });
      }
      const { events, ...info } = await runStream(prepared, finish, {
        start: () => prepared.adapter.relayChatStream!(body, prepared.target, { includeUsage, costOf }),
        prompt: () => promptSize(json),
      });
      return sseResponse(
        c,
        events,
        toRelayTransformer((error) => `data: ${JSON.stringify(renderError(error))}\n\n`),
        callHeaders(caller, prepared, info, event.requestId),
      );
    }

    const chat: PreparedChat = {
      ...prepared,
      request: { ...translated, model: prepared.deployment.upstreamModel },
    };
    if (!stream) {
      const { result, ...info } = await runChat(chat, event.startedAt);
      return modelJson(c, toOpenAIChatResponse(result), callHeaders(caller, chat, info, event.requestId));
    }
    const { events, ...info } = await runChatStream(chat, finish);
    return sseResponse(
      c,
      events,
      toOpenAIStreamTransformer({ includeUsage, renderError, costOf }),
      callHeaders(caller, chat, info, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/chat/completions', auth, handleChatCompletion);
  app.post('/chat/completions', auth, handleChatCompletion);
  return app;
}

import {
  fromOpenAIChatRequest,
  openAIChatRequestSchema,
  toOpenAIChatResponse,
  toOpenAIStreamTransformer,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { toErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import type { FinishRequestEvent } from '../services/finish-request-event.ts';
import { callHeaders, prepareModelCall, priceCall, runChat, runChatStream } from '../services/model-call.ts';
import { modelJson, parseModelRequest } from './parse-json-body.ts';
import { sseResponse } from './sse-response.ts';

/** `POST /v1/chat/completions` and `/chat/completions`: OpenAI format in and out, any provider. */
export function chatCompletionRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleChatCompletion(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const { raw, body } = await parseModelRequest(clientRequest(c), openAIChatRequestSchema);
    const request = fromOpenAIChatRequest(body);
    // Anthropic betas asked for on the OpenAI route reach Anthropic deployments (merged with ours).
    const beta = clientRequest(c).headers.get('anthropic-beta');
    if (beta)
      request.anthropicBeta = beta
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean);
    const prepared = await prepareModelCall(deps, c, request, raw, 'acompletion');

    if (!prepared.request.stream) {
      const { result, ...info } = await runChat(prepared, event.startedAt);
      return modelJson(
        c,
        toOpenAIChatResponse(result),
        callHeaders(c.get('caller'), prepared, info, event.requestId),
      );
    }
    const { events, ...info } = await runChatStream(prepared, c, finish);
    return sseResponse(
      c,
      events,
      toOpenAIStreamTransformer({
        includeUsage: body.stream_options?.include_usage === true,
        renderError: (error) => toErrorBody(error, event.requestId),
        costOf: (usage) => {
          const price = priceCall(
            prepared.deployment,
            usage,
            event.startedAt,
            prepared.call.callerChosenUpstream,
          );
          return price.priced ? price.costUsd : undefined;
        },
      }),
      callHeaders(c.get('caller'), prepared, info, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/chat/completions', auth, handleChatCompletion);
  app.post('/chat/completions', auth, handleChatCompletion);
  return app;
}

import {
  fromOpenAICompletionRequest,
  openAICompletionRequestSchema,
  toOpenAICompletionResponse,
  toOpenAICompletionStreamTransformer,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { toErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { callHeaders, prepareChatCall, runChat, runChatStream } from '../model-call/model-call.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import { callInput } from './call-input.ts';
import { modelJson, parseModelRequest } from './parse-json-body.ts';
import { sseResponse } from './sse-response.ts';

/**
 * `POST /v1/completions` and `/completions`: legacy text completions (wire formats §1.5).
 * OpenAI-compatible upstreams get their own `/completions` (with `suffix` for fill-in-the-middle);
 * Ollama's generate mode gets the raw prompt; other providers answer the prompt as a chat turn,
 * returned as a `text_completion`, as LiteLLM does.
 */
export function completionRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleCompletion(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const { raw, body } = await parseModelRequest(clientRequest(c), openAICompletionRequestSchema);
    const request = fromOpenAICompletionRequest(body);
    const prepared = await prepareChatCall(
      deps,
      callInput(c, {
        modelName: request.model,
        stream: request.stream,
        callType: 'atext_completion',
        body: raw,
      }),
      request,
    );
    if (!prepared.request.stream) {
      const { result, ...info } = await runChat(prepared, event.startedAt);
      return modelJson(
        c,
        toOpenAICompletionResponse(result),
        callHeaders(c.get('caller'), prepared, info, event.requestId),
      );
    }
    const { events, ...info } = await runChatStream(prepared, finish);
    return sseResponse(
      c,
      events,
      toOpenAICompletionStreamTransformer({
        includeUsage: body.stream_options?.include_usage === true,
        renderError: (error) => toErrorBody(error, event.requestId),
      }),
      callHeaders(c.get('caller'), prepared, info, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/completions', auth, handleCompletion);
  app.post('/completions', auth, handleCompletion);
  return app;
}

import {
  fromOpenAIEmbeddingRequest,
  openAIEmbeddingRequestSchema,
  toOpenAIEmbeddingResponse,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import { inputTokensAtMost } from '../admission/admission.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { callHeaders, prepareCall, priceCall, withRetries } from '../model-call/model-call.ts';
import { callInput } from './call-input.ts';
import { modelJson, parseModelRequest } from './parse-json-body.ts';

/** The input tokens of an embeddings call at most: token ids counted, text as any prompt. */
function embeddingInputTokensAtMost(input: unknown): number {
  const items = Array.isArray(input) ? input : [input];
  let tokens = 0;
  for (const item of items) {
    if (typeof item === 'string') tokens += inputTokensAtMost({ text: item, messages: 1 });
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += item.length;
  }
  return Math.max(1, tokens);
}

/** `POST /v1/embeddings` and `/embeddings`: OpenAI format, for providers with an embeddings endpoint. */
export function embeddingRoutes(deps: AppDeps) {
  async function handleEmbeddings(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const { raw, body: parsedBody } = await parseModelRequest(clientRequest(c), openAIEmbeddingRequestSchema);
    const input = callInput(c, {
      modelName: parsedBody.model,
      stream: false,
      callType: 'aembedding',
      body: raw,
    });
    const prepared = await prepareCall(deps, input, {
      estimate: () => ({ inputTokens: embeddingInputTokensAtMost(parsedBody.input), outputTokens: 0 }),
    });
    const embed = prepared.adapter.embed;
    if (!embed) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Provider '${prepared.deployment.provider}' of model ${prepared.deployment.modelName} offers no embeddings.`,
      });
    }
    const request = { ...fromOpenAIEmbeddingRequest(parsedBody), model: prepared.deployment.upstreamModel };
    const value = await withRetries(prepared, () => embed(request, prepared.target));
    const { call, deployment } = prepared;
    call.usage = value.result.usage;
    call.responseModel = value.result.model;
    call.droppedParams = value.droppedParams;
    call.price = priceCall(deployment, value.result.usage, event.startedAt, call.callerChosenUpstream);
    return modelJson(
      c,
      toOpenAIEmbeddingResponse(value.result, value.result.model, request.encodingFormat),
      callHeaders(c.get('caller'), prepared, value, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/embeddings', auth, handleEmbeddings);
  app.post('/embeddings', auth, handleEmbeddings);
  return app;
}

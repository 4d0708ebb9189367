import { openAIImageRequestSchema } from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { callHeaders, prepareCall, priceCall, withRetries } from '../model-call/model-call.ts';
import { callInput } from './call-input.ts';
import { modelJson, parseModelRequest } from './parse-json-body.ts';

/**
 * `POST /v1/images/generations` and `/images/generations`: OpenRouter through its chat endpoint
 * (wire formats §8.6), OpenAI-compatible upstreams through their own. OpenRouter's reported
 * cost prices the call; other image calls are recorded unpriced (image pricing is not modelled yet).
 */
export function imageRoutes(deps: AppDeps) {
  async function handleImages(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const { raw, body: parsedBody } = await parseModelRequest(clientRequest(c), openAIImageRequestSchema);
    const prepared = await prepareCall(
      deps,
      callInput(c, { modelName: parsedBody.model, stream: false, callType: 'aimage_generation', body: raw }),
    );
    const generate = prepared.adapter.generateImage;
    if (!generate) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Provider '${prepared.deployment.provider}' of model ${prepared.deployment.modelName} does not generate images.`,
      });
    }
    const body = { ...parsedBody, model: prepared.deployment.upstreamModel };
    const value = await withRetries(prepared, () => generate(body, prepared.target));
    const { call } = prepared;
    call.usage = value.inputTokens !== undefined ? { inputTokens: value.inputTokens } : {};
    call.price =
      value.providerCostUsd !== undefined &&
      prepared.deployment.provider === 'openrouter' &&
      !call.callerChosenUpstream
        ? priceCall(
            prepared.deployment,
            { ...call.usage, providerCostUsd: value.providerCostUsd },
            event.startedAt,
          )
        : {
            priced: false,
            reason: 'unknown_model',
            detail: 'image generation is priced only from OpenRouter-reported costs',
          };
    return modelJson(
      c,
      value.response,
      callHeaders(c.get('caller'), prepared, { ...value, droppedParams: [] }, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/images/generations', auth, handleImages);
  app.post('/images/generations', auth, handleImages);
  return app;
}

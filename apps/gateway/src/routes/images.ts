import { priceUsage } from '@gateway/pricing';
import { openAIImageRequestSchema } from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { callHeaders, prepareCall, withRetries } from '../services/model-call.ts';
import { parseJsonBody } from './parse-json-body.ts';

/**
 * `POST /v1/images/generations` and `/images/generations`: OpenRouter through its chat endpoint
 * (wire formats §8.6), OpenAI-compatible upstreams through their own. OpenRouter's reported
 * cost prices the call; other image calls are recorded unpriced (image pricing is not modelled yet).
 */
export function imageRoutes(deps: AppDeps) {
  async function handleImages(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const raw = await parseJsonBody(c.req.raw);
    const parsed = openAIImageRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || undefined;
      throw new GatewayHttpError({
        kind: 'invalid_request',
        message: `Invalid request body: ${param ? `${param}: ` : ''}${issue?.message ?? 'invalid'}`,
        ...(param ? { param } : {}),
      });
    }
    const prepared = await prepareCall(
      deps,
      c,
      parsed.data.model,
      false,
      raw as Record<string, unknown>,
      'aimage_generation',
    );
    const generate = prepared.adapter.generateImage;
    if (!generate) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'model',
        message: `Provider '${prepared.deployment.provider}' of model ${prepared.deployment.modelName} does not generate images.`,
      });
    }
    const body = { ...parsed.data, model: prepared.deployment.upstreamModel };
    const value = await withRetries(prepared, () => generate(body, prepared.target));
    const { call } = prepared;
    call.usage = value.inputTokens !== undefined ? { inputTokens: value.inputTokens } : {};
    call.price =
      value.providerCostUsd !== undefined && prepared.deployment.provider === 'openrouter'
        ? priceUsage({
            provider: 'openrouter',
            model: body.model,
            usage: call.usage,
            at: event.startedAt,
            providerCostUsd: value.providerCostUsd,
          })
        : {
            priced: false,
            reason: 'unknown_model',
            detail: 'image generation is priced only from OpenRouter-reported costs',
          };
    return c.json(
      value.response,
      200,
      callHeaders(c.get('caller'), prepared, { ...value, droppedParams: [] }, event.requestId),
    );
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  app.post('/v1/images/generations', auth, handleImages);
  app.post('/images/generations', auth, handleImages);
  return app;
}

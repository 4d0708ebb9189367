import { lookupCatalogPrices } from '@gateway/pricing';
import { Hono } from 'hono';
import type { AppDeps, AppEnv, Caller } from '../app-env.ts';
import type { Deployment } from '../config/gateway-config.ts';
import { GatewayHttpError } from '../errors.ts';
import type { TeamRecord } from '../lookups/lookups.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { allowedModelNames } from '../model-call/model-access.ts';

// LiteLLM reports a fixed creation time and owner for every model (contract §2.13).
const CREATED = 1677610602;

/** USD per token from a catalog price per million tokens; tiered prices give their base. */
function perToken(price: unknown): number | null {
  if (typeof price === 'number') return price / 1_000_000;
  if (price && typeof price === 'object' && 'base' in price && typeof price.base === 'number') {
    return price.base / 1_000_000;
  }
  return null;
}

function modelInfo(deployment: Deployment) {
  const catalog = lookupCatalogPrices(deployment.provider, deployment.upstreamModel, new Date());
  const overrides = deployment.priceOverrides;
  return {
    model_name: deployment.modelName,
    // Credentials are never shown.
    litellm_params: {
      model: `${deployment.provider}/${deployment.upstreamModel}`,
      api_base: deployment.apiBase,
    },
    model_info: {
      id: deployment.deploymentId,
      db_model: false,
      key: deployment.upstreamModel,
      litellm_provider: deployment.provider,
      mode: 'chat',
      input_cost_per_token: overrides.input_cost_per_token ?? perToken(catalog?.prices.input_mtok),
      output_cost_per_token: overrides.output_cost_per_token ?? perToken(catalog?.prices.output_mtok),
      cache_read_input_token_cost:
        overrides.cache_read_input_token_cost ?? perToken(catalog?.prices.cache_read_mtok),
      cache_creation_input_token_cost:
        overrides.cache_creation_input_token_cost ?? perToken(catalog?.prices.cache_write_mtok),
      cache_creation_input_token_cost_above_1hr:
        overrides.cache_creation_input_token_cost_above_1hr ?? perToken(catalog?.prices.cache_write_1h_mtok),
    },
  };
}

/**
 * `GET /v1/models` (`/models`): the public model names the caller may use (key and team
 * lists); `GET /model/info` (`/v1/model/info`): deployments with prices, without secrets.
 */
export function modelRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);

  async function teamOf(caller: Caller): Promise<TeamRecord | undefined> {
    if (caller.kind !== 'virtual' || !caller.key.teamId) return undefined;
    return deps.lookups.teams.get(caller.key.teamId);
  }
  async function visibleNames(caller: Caller): Promise<string[]> {
    const names = deps.router.modelNames();
    return caller.kind === 'master' ? names : allowedModelNames(caller.key, await teamOf(caller), names);
  }

  for (const path of ['/v1/models', '/models']) {
    app.get(path, auth, async (c) => {
      const names = await visibleNames(c.get('caller'));
      return c.json({
        data: names.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' })),
        object: 'list',
      });
    });
  }
  for (const path of ['/model/info', '/v1/model/info']) {
    app.get(path, auth, async (c) => {
      const visible = new Set(await visibleNames(c.get('caller')));
      const wanted = c.req.query('litellm_model_id');
      const deployments = deps.router
        .deployments()
        .filter((d) => visible.has(d.modelName) && (!wanted || d.deploymentId === wanted));
      if (wanted && deployments.length === 0) {
        throw new GatewayHttpError({
          kind: 'not_found',
          param: 'litellm_model_id',
          message: `Model id ${wanted} not found`,
        });
      }
      return c.json({ data: deployments.map(modelInfo) });
    });
  }
  return app;
}

import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { authenticate, requireAdmin } from '../middleware/authenticate.ts';

const READINESS_DB_TIMEOUT_MS = 2_000;

/**
 * `/health/liveliness` (LiteLLM's spelling) and `/health/liveness`: the process answers.
 * `/health/readiness`: the database answers too, and the gateway is not shutting down; 503
 * otherwise, so an orchestrator holds
 * traffic back from an instance that cannot authenticate new keys.
 * `/health` (master key): a one-token call to every deployment.
 */
export function healthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const alive = () => Response.json("I'm alive!");
  app.get('/health/liveliness', alive);
  app.get('/health/liveness', alive);

  app.get('/health/readiness', async (c) => {
    const body = { cache: deps.cacheKind, litellm_version: deps.version };
    if (deps.lifecycle?.draining) return c.json({ status: 'draining', ...body }, 503);
    try {
      await withTimeout(deps.database.ping(), READINESS_DB_TIMEOUT_MS);
      return c.json({ status: 'healthy', db: 'connected', ...body });
    } catch {
      return c.json({ status: 'unhealthy', db: 'disconnected', ...body }, 503);
    }
  });

  app.get('/health', authenticate(deps), requireAdmin(), async (c) => {
    const results = await Promise.all(
      deps.router.deployments().map(async (deployment) => {
        const adapter = deps.adapters.get(deployment.provider);
        const summary = {
          model: deployment.modelName,
          api_base: deployment.apiBase,
          model_id: deployment.deploymentId,
        };
        if (!adapter)
          return {
            ...summary,
            healthy: false,
            error: `provider ${deployment.provider} is not supported yet`,
          };
        const result = await adapter.chat(
          {
            model: deployment.upstreamModel,
            messages: [{ role: 'user', content: [{ type: 'text', text: 'ping' }] }],
            stream: false,
            maxOutputTokens: 1,
            openaiExtras: {},
          },
          {
            apiBase: deployment.apiBase,
            ...(deployment.apiKey ? { apiKey: deployment.apiKey } : {}),
            signal: AbortSignal.timeout(10_000),
          },
        );
        return result.ok
          ? { ...summary, healthy: true }
          : { ...summary, healthy: false, error: result.error.message };
      }),
    );
    const healthy = results.filter((r) => r.healthy).map(({ healthy: _, ...rest }) => rest);
    const unhealthy = results.filter((r) => !r.healthy).map(({ healthy: _, ...rest }) => rest);
    return c.json({
      healthy_endpoints: healthy,
      unhealthy_endpoints: unhealthy,
      healthy_count: healthy.length,
      unhealthy_count: unhealthy.length,
    });
  });
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);
}

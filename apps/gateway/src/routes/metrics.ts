import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { authenticate } from '../middleware/authenticate.ts';

/**
 * `GET /metrics`: the Prometheus exposition of the gateway's registry (in a `WORKERS=N` cluster,
 * every worker's, aggregated). Open by default, as
 * LiteLLM's; `general_settings.require_auth_for_metrics_endpoint: true` asks for a key.
 */
export function metricsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const serve = async (c: {
    body: (data: string, status: 200, headers: Record<string, string>) => Response;
  }) =>
    c.body(await (deps.metricsText?.() ?? deps.metrics.registry.metrics()), 200, {
      'content-type': deps.metrics.registry.contentType,
    });
  if (deps.metricsRequireAuth) app.get('/metrics', authenticate(deps), (c) => serve(c));
  else app.get('/metrics', (c) => serve(c));
  return app;
}

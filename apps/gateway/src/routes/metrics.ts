import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';

/** `GET /metrics`: the Prometheus exposition of the gateway's registry. */
export function metricsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }),
  );
  return app;
}

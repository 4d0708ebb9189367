import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { isModelAllowed } from '../services/model-router.ts';

// LiteLLM reports a fixed creation time and owner for every model (contract §2.13).
const CREATED = 1677610602;

/** `GET /v1/models` and `/models`: the public model names the calling key may use. */
export function modelRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  for (const path of ['/v1/models', '/models']) {
    app.get(path, auth, (c) => {
      const caller = c.get('caller');
      const names = deps.router
        .modelNames()
        .filter((name) => caller.kind === 'master' || isModelAllowed(caller.key.models, name));
      return c.json({
        data: names.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' })),
        object: 'list',
      });
    });
  }
  return app;
}

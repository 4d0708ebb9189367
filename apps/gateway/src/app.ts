import { Hono } from 'hono';
import type { AppDeps, AppEnv } from './app-env.ts';
import {
  databaseUnavailable,
  errorHeaders,
  GatewayHttpError,
  isDatabaseUnavailable,
  isStatementTimeout,
  reportTimedOut,
  statusOf,
  toAnthropicErrorBody,
  toErrorBody,
} from './errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { createFinishRequestEvent } from './request/finish-request-event.ts';
import { AdminApi } from './routes/admin/admin-api.ts';
import { registerCustomerRoutes } from './routes/admin/customers.ts';
import { registerKeyRoutes } from './routes/admin/keys.ts';
import { buildOpenApiDocument } from './routes/admin/openapi.ts';
import { registerSpendRoutes } from './routes/admin/spend.ts';
import { registerSpendReportRoutes } from './routes/admin/spend-reports.ts';
import { registerTagRoutes } from './routes/admin/tags.ts';
import { registerTeamRoutes } from './routes/admin/teams.ts';
import { registerUserRoutes } from './routes/admin/users.ts';
import { adminDocsRoutes } from './routes/admin-docs.ts';
import { anthropicPassthroughRoutes } from './routes/anthropic-passthrough.ts';
import { chatCompletionRoutes } from './routes/chat-completions.ts';
import { completionRoutes } from './routes/completions.ts';
import { embeddingRoutes } from './routes/embeddings.ts';
import { healthRoutes } from './routes/health.ts';
import { imageRoutes } from './routes/images.ts';
import { messagesRoutes } from './routes/messages.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { modelRoutes } from './routes/models.ts';

/**
 * Builds the gateway's HTTP app from ready-made dependencies. Does no I/O: main.ts (or a test)
 * opens databases and connections and passes them in.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const finish = createFinishRequestEvent(
    deps.logger,
    deps.spendQueue,
    deps.onSoftBudgetCrossed,
    deps.metrics,
    deps.lifecycle,
  );
  const app = new Hono<AppEnv>();

  app.use('*', requestContext(finish, deps.maxRequestBytes, deps.lifecycle));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', modelRoutes(deps));
  app.route('/', chatCompletionRoutes(deps, finish));
  app.route('/', messagesRoutes(deps, finish));
  app.route('/', embeddingRoutes(deps));
  app.route('/', completionRoutes(deps, finish));
  app.route('/', imageRoutes(deps));
  app.route('/', anthropicPassthroughRoutes(deps, finish));

  const admin = new Hono<AppEnv>();
  const api = new AdminApi(admin, deps);
  registerKeyRoutes(api, deps);
  registerTeamRoutes(api, deps);
  registerUserRoutes(api, deps);
  registerCustomerRoutes(api, deps);
  registerTagRoutes(api, deps);
  registerSpendRoutes(api, deps);
  registerSpendReportRoutes(api, deps);
  app.route('/', admin);
  app.route(
    '/',
    adminDocsRoutes(() => buildOpenApiDocument(api.specs, deps.version)),
  );

  app.notFound((c) => {
    const error = { kind: 'not_found' as const, message: `Route ${c.req.method} ${c.req.path} not found.` };
    return c.json(toErrorBody(error, c.get('event').requestId), 404);
  });

  // The one place errors become responses, in the LiteLLM/OpenAI envelope.
  app.onError((cause, c) => {
    const event = c.get('event');
    const ours = cause instanceof GatewayHttpError;
    const unavailable = !ours && isDatabaseUnavailable(cause);
    const timedOut = !ours && isStatementTimeout(cause);
    const error = ours
      ? cause.error
      : unavailable
        ? databaseUnavailable
        : timedOut
          ? reportTimedOut
          : ({ kind: 'internal', message: cause instanceof Error ? cause.message : String(cause) } as const);
    if (unavailable) deps.logger.warn({ err: cause, requestId: event.requestId }, 'database unreachable');
    else if (timedOut)
      deps.logger.warn({ err: cause, requestId: event.requestId }, 'report cancelled: too slow');
    else if (!ours) deps.logger.error({ err: cause, requestId: event.requestId }, 'unhandled error');
    event.error = error;
    if (error.kind === 'client_closed') event.outcome = 'client_closed';
    const status = statusOf(error);
    const body =
      c.get('dialect') === 'anthropic'
        ? toAnthropicErrorBody(error, event.requestId)
        : toErrorBody(error, event.requestId);
    return c.json(body, status as 400, errorHeaders(error));
  });
  return app;
}

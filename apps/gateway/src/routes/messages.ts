import {
  anthropicRequestSchema,
  fromAnthropicRequest,
  parseProviderModel,
  toAnthropicMessage,
  toAnthropicStream,
} from '@gateway/providers';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError, toAnthropicErrorBody } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import type { FinishRequestEvent } from '../services/finish-request-event.ts';
import { callHeaders, prepareModelCall, runChat, runChatStream } from '../services/model-call.ts';
import { parseJsonBody } from './parse-json-body.ts';

/**
 * `POST /v1/messages`: Anthropic's Messages format in and out, for every provider
 * (wire formats §5). The request goes through the canonical model to the deployment's adapter;
 * answers are rendered back as Anthropic messages or SSE events, errors in Anthropic's shape.
 */
export function messagesRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  async function handleMessages(c: Context<AppEnv>): Promise<Response> {
    const event = c.get('event');
    const raw = await parseJsonBody(c.req.raw);
    const parsed = anthropicRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || undefined;
      throw new GatewayHttpError({
        kind: 'invalid_request',
        message: `${param ? `${param}: ` : ''}${issue?.message ?? 'invalid request'}`,
        ...(param ? { param } : {}),
      });
    }
    // Content without a canonical form is reported with what the provider could not honour.
    const { request, dropped } = fromAnthropicRequest(parsed.data);
    const beta = c.req.header('anthropic-beta');
    if (beta)
      request.anthropicBeta = beta
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean);
    const prepared = await prepareModelCall(
      deps,
      c,
      request,
      raw as Record<string, unknown>,
      'anthropic_messages',
    );
    // Reported back as asked, without a provider prefix (wire formats §10).
    const model = parseProviderModel(parsed.data.model)?.model ?? parsed.data.model;

    if (!prepared.request.stream) {
      const { result, ...info } = await runChat(prepared, event.startedAt);
      info.droppedParams = [...dropped, ...info.droppedParams];
      prepared.call.droppedParams = info.droppedParams;
      prepared.call.droppedParams = info.droppedParams;
      return c.json(
        toAnthropicMessage(result, model),
        200,
        callHeaders(c.get('caller'), prepared, info, event.requestId),
      );
    }
    const { events, ...info } = await runChatStream(prepared, c, finish);
    info.droppedParams = [...dropped, ...info.droppedParams];
    prepared.call.droppedParams = info.droppedParams;
    const sse = events
      .pipeThrough(
        toAnthropicStream({ model, renderError: (error) => toAnthropicErrorBody(error, event.requestId) }),
      )
      .pipeThrough(new TextEncoderStream());
    return new Response(sse, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        ...callHeaders(c.get('caller'), prepared, info, event.requestId),
      },
    });
  }

  const app = new Hono<AppEnv>();
  const auth = authenticate(deps);
  for (const path of ['/v1/messages', '/messages']) {
    app.post(
      path,
      async (c, next) => {
        c.set('dialect', 'anthropic');
        await next();
      },
      auth,
      handleMessages,
    );
  }
  return app;
}

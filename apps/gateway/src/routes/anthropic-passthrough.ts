import { modelMaxOutputTokens, type UsageToPrice } from '@gateway/pricing';
import { Hono } from 'hono';
import { admissionHeaders, DEFAULT_MAX_OUTPUT_TOKENS, inputTokensAtMost } from '../admission/admission.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { authorizeModelCall } from '../model-call/authorize-model-call.ts';
import { admitModelCall, callScopes, priceCall } from '../model-call/model-call.ts';
import { resolveEndUser, resolveTags } from '../model-call/request-attribution.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import type { ModelCall } from '../request/request-event.ts';
import { relayAnthropic } from './anthropic-relay.ts';
import { checkModelBody, invalid, promptSize } from './model-body.ts';
import { findJsonOffence } from './parse-json-body.ts';

/**
 * What the pass-through relays: per-request endpoints only. Batches, files and the like live in
 * the operator's Anthropic account, where one key could read another's; the legacy
 * `/v1/complete` reports no usage, so it could be neither metered nor held to a budget.
 */
const relayedPaths = [
  /^\/anthropic\/v1\/messages$/,
  /^\/anthropic\/v1\/messages\/count_tokens$/,
  /^\/anthropic\/v1\/models(\/[^/]+)?$/,
];
/**
 * A model id in the path goes upstream with the operator's key: only the characters model ids
 * use, so nothing encoded (`%2F`, `..`) can reach another endpoint.
 */
const SAFE_MODEL_ID = /^\/anthropic\/v1\/models\/[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}$/;
/**
 * `/anthropic/*`: Anthropic's own API through the gateway (wire formats §5.5). The caller's
 * virtual key (`x-api-key` or `Authorization`) is checked, including its model list, and
 * replaced by the gateway's Anthropic key; `litellm_metadata` is read for the end user and tags,
 * then removed; the answer is relayed byte for byte. `POST /v1/messages` calls are priced from
 * the usage they report, streamed or not (`call_type` `pass_through_endpoint`).
 */
export function anthropicPassthroughRoutes(deps: AppDeps, finish: FinishRequestEvent) {
  const { client, apiBase, apiKey } = deps.anthropicPassthrough;
  const app = new Hono<AppEnv>();
  app.all(
    '/anthropic/*',
    async (c, next) => {
      c.set('dialect', 'anthropic');
      await next();
    },
    authenticate(deps),
    async (c) => {
      const event = c.get('event');
      const method = c.req.method;
      const url = new URL(c.req.url);
      if (url.pathname.startsWith('/anthropic/v1/models/') && !SAFE_MODEL_ID.test(url.pathname)) {
        throw invalid('The model id in the path holds characters no model id has.', 'model_id');
      }
      if (!relayedPaths.some((pattern) => pattern.test(url.pathname))) {
        throw new GatewayHttpError({
          kind: 'forbidden',
          type: 'permission_error',
          message: `${url.pathname.slice('/anthropic'.length)} is not available through the pass-through: batches, files and account endpoints would share the gateway's Anthropic account between keys, and the legacy /v1/complete reports no usage to meter.`,
        });
      }
      let body = method === 'GET' || method === 'HEAD' ? undefined : await clientRequest(c).text();
      let json: Record<string, unknown> | undefined;
      if (body) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          // Not JSON: relayed as it is (a messages call is refused below).
        }
        // Too deep to walk, or a name no header or row can hold: refused before it goes upstream.
        const offence = findJsonOffence(parsed);
        if (offence) throw invalid(`${offence.path || 'the body'} ${offence.problem}.`, offence.path);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          json = parsed as Record<string, unknown>;
      }
      const metered = method === 'POST' && url.pathname.startsWith('/anthropic/v1/messages');
      if (metered) checkModelBody(json);
      const headers = c.req.raw.headers;
      const caller = c.get('caller');
      const endUser = json ? resolveEndUser(headers, json, deps.endUserHeaders) : undefined;
      // Key and team model lists apply here too, to the upstream model id (or `anthropic/<id>`).
      const model = typeof json?.model === 'string' ? json.model : undefined;
      const { team, user, customer } = await authorizeModelCall(
        deps.lookups,
        caller,
        model && `anthropic/${model}`,
        endUser,
        model,
      );
      const tags = json
        ? resolveTags(headers, json, caller.kind === 'virtual' ? caller.key.metadata : {}, team?.metadata)
        : [];
      if (json && 'litellm_metadata' in json) {
        delete json.litellm_metadata;
        body = JSON.stringify(json);
      }

      // An operator prices a model the catalog does not know (yet) with a model_list entry.
      const overrides = model && deps.router.deploymentFor('anthropic', model)?.priceOverrides;
      const price = (usage: UsageToPrice, at: Date) =>
        priceCall(
          { provider: 'anthropic', upstreamModel: model ?? '', priceOverrides: overrides || {} },
          usage,
          at,
        );
      let call: ModelCall | undefined;
      if (method === 'POST' && url.pathname === '/anthropic/v1/messages' && model) {
        const scopes = await callScopes(deps, caller, { team, user, customer }, model, tags);
        // The client picks any model id here: one nobody can price would spend nothing against
        // a budget, so a budgeted caller may not use it.
        const budgeted = scopes.filter((scope) => scope.budget).map((scope) => scope.id.split(':')[0]);
        if (budgeted.length > 0 && !price({ inputTokens: 1, outputTokens: 1 }, event.startedAt).priced) {
          throw invalid(
            `model: ${model} has no known price, and this call counts against a budget (${[...new Set(budgeted)].join(', ')}) that it could not be held to. Use a model the price catalog knows, or ask the operator to price it (a model_list entry for anthropic/${model} with input_cost_per_token and output_cost_per_token).`,
            'model',
          );
        }
        await admitModelCall(deps, event, {
          scopes,
          estimate: () => ({
            inputTokens: inputTokensAtMost(promptSize(json ?? {})),
            outputTokens:
              typeof json?.max_tokens === 'number'
                ? json.max_tokens
                : (modelMaxOutputTokens('anthropic', model) ?? DEFAULT_MAX_OUTPUT_TOKENS),
          }),
          price: (usage) => price(usage, event.startedAt),
        });
        call = {
          callType: 'pass_through_endpoint',
          modelGroup: model,
          deploymentId: 'anthropic-passthrough',
          provider: 'anthropic',
          apiBase,
          upstreamModel: model,
          stream: json?.stream === true,
          usage: {},
          tags,
          ...(endUser ? { endUser } : {}),
        };
        event.call = call;
      }
      return relayAnthropic(c, {
        client,
        method,
        path: url.pathname.slice('/anthropic'.length) + url.search,
        body,
        target: { apiBase, ...(apiKey ? { apiKey } : {}), signal: c.req.raw.signal },
        call,
        finish,
        price,
        responseHeaders: admissionHeaders(event.reservation),
      });
    },
  );
  return app;
}

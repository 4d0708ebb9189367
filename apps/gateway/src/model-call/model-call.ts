import { modelMaxOutputTokens, type PriceResult, priceUsage, type UsageToPrice } from '@gateway/pricing';
import {
  type CallTarget,
  type ChatRequest,
  type ChatResult,
  type ChatStreamResponse,
  type ProviderAdapter,
  type RelayedChat,
  type Result,
  type StreamEvent,
  type UpstreamResponseInfo,
  type Usage,
  upstreamOverrideFields,
} from '@gateway/providers';
import {
  admissionHeaders,
  admissionScopes,
  admitCall,
  budgetedTags,
  type CallEstimate,
  DEFAULT_MAX_OUTPUT_TOKENS,
  inputTokensAtMost,
} from '../admission/admission.ts';
import { type AdmissionScope, type Reservation, scopeId } from '../admission/ledger.ts';
import type { AppDeps, Caller } from '../app-env.ts';
import type { Deployment } from '../config/gateway-config.ts';
import { type GatewayError, GatewayHttpError, statusOf } from '../errors.ts';
import type { CustomerRecord, TeamRecord, UserRecord } from '../lookups/lookups.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import { attemptClock, type ModelCall, producedOutput, type RequestEvent } from '../request/request-event.ts';
import { authorizeModelCall } from './authorize-model-call.ts';
import { checkClientApiBase } from './client-upstream.ts';
import { type EventReader, meterStream } from './meter-stream.ts';
import { resolveEndUser, resolveTags } from './request-attribution.ts';
import { chatRequestMedia, chatRequestText, completeUsage, type PromptText } from './usage-estimate.ts';

/**
 * What a route hands the model call, whatever its dialect: who calls, for which model and kind
 * of call, and the client's request (its headers and body are read for the end user, tags and
 * a caller-chosen upstream; its signal aborts the upstream call).
 */
export interface CallInput {
  caller: Caller;
  /** The request's wide event: the call is recorded on it. */
  event: RequestEvent;
  modelName: string;
  stream: boolean;
  callType: ModelCall['callType'];
  headers: Pick<Headers, 'get'>;
  body: Record<string, unknown>;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** A model call ready to go: where, with what, recorded on the request's wide event. */
export interface PreparedCall {
  input: CallInput;
  deployment: Deployment;
  adapter: ProviderAdapter;
  call: ModelCall;
  target: CallTarget;
  /** What the call holds against budgets and limits (for the remaining-limit headers). */
  reservation: Reservation | undefined;
}

/** A chat call ready to go, its request addressed to the upstream model. */
export interface PreparedChat extends PreparedCall {
  request: ChatRequest;
}

/** {@link prepareCall} for a chat request in the canonical model. */
export async function prepareChatCall(
  deps: AppDeps,
  input: CallInput,
  request: ChatRequest,
): Promise<PreparedChat> {
  const prepared = await prepareCall(deps, input, {
    estimate: (deployment) => ({
      inputTokens: inputTokensAtMost({ ...chatRequestText(request), ...chatRequestMedia(request) }),
      outputTokens: request.maxOutputTokens ?? maxOutputTokensOf(deployment),
    }),
  });
  return { ...prepared, request: { ...request, model: prepared.deployment.upstreamModel } };
}

/**
 * The steps every model route shares, whatever its dialect: refuse client-chosen upstreams,
 * resolve the public model name, run the access checks (key, team, end user), admit the call
 * against its budgets and limits, and open the call on the wide event.
 */
export async function prepareCall(
  deps: AppDeps,
  input: CallInput,
  options: {
    /** The most the call may use, for its budget reservation; a token of input by default. */
    estimate?: (deployment: Deployment) => CallEstimate;
    /**
     * Checks the body against what the chosen deployment needs (throws to refuse it): before
     * any access check or admission, so a refused body holds no rate-limit slot and leaves no row.
     */
    check?: (deployment: Deployment) => void;
  } = {},
): Promise<PreparedCall> {
  const { caller, event, modelName, body } = input;
  const estimate = options.estimate ?? (() => ({ inputTokens: 1, outputTokens: 0 }));
  event.requestedModel = modelName;
  const clientTarget = clientChosenUpstream(deps, caller, body);
  const deployment = deps.router.pick(modelName);
  if (!deployment) {
    throw new GatewayHttpError({
      kind: 'invalid_request',
      param: 'model',
      message: `Invalid model name passed in model=${modelName}. Call \`/v1/models\` to view available models for your key.`,
    });
  }
  options.check?.(deployment);
  const endUser = resolveEndUser(input.headers, body, deps.endUserHeaders);
  const { team, user, customer } = await authorizeModelCall(
    deps.lookups,
    caller,
    deployment.modelName,
    endUser,
  );
  const tags = resolveTags(
    input.headers,
    body,
    caller.kind === 'virtual' ? caller.key.metadata : {},
    team?.metadata,
  );
  await admitModelCall(deps, event, {
    scopes: await callScopes(deps, caller, { team, user, customer }, deployment.modelName, tags),
    estimate: () => estimate(deployment),
    price: (usage) => priceCall(deployment, usage, event.startedAt),
  });
  event.teamAlias = team?.teamAlias ?? null;
  noteBudgetsAndLimits(event, caller, team, user, deployment.modelName);
  const adapter = deps.adapters.get(deployment.provider);
  if (!adapter) {
    throw new GatewayHttpError({
      kind: 'invalid_request',
      param: 'model',
      message: `Provider '${deployment.provider}' of model ${deployment.modelName} is not supported by this gateway yet.`,
    });
  }
  const call: ModelCall = {
    callType: input.callType,
    ...(clientTarget.apiBase !== undefined ? { callerChosenUpstream: true } : {}),
    modelGroup: deployment.modelName,
    deploymentId: deployment.deploymentId,
    provider: deployment.provider,
    apiBase: clientTarget.apiBase ?? deployment.apiBase,
    upstreamModel: deployment.upstreamModel,
    stream: input.stream,
    usage: {},
    tags,
    ...(endUser ? { endUser } : {}),
  };
  event.call = call;
  return {
    input,
    reservation: event.reservation,
    deployment,
    adapter,
    call,
    target: {
      // A caller-chosen upstream gets the caller's key or none: never the operator's.
      apiBase: clientTarget.apiBase ?? deployment.apiBase,
      ...upstreamKey(clientTarget, deployment),
      signal: input.signal,
      ...(deployment.timeoutMs !== undefined ? { timeoutMs: deployment.timeoutMs } : {}),
      ...(deployment.streamTimeoutMs !== undefined ? { streamTimeoutMs: deployment.streamTimeoutMs } : {}),
      // Never to a caller-chosen upstream: they may hold the operator's credentials.
      ...(deployment.extraHeaders && clientTarget.apiBase === undefined
        ? { extraHeaders: deployment.extraHeaders }
        : {}),
    },
  };
}

/** The budgets and limits a call to `modelGroup` counts against, tags with a budget included. */
export async function callScopes(
  deps: AppDeps,
  caller: Caller,
  owners: {
    team: TeamRecord | undefined;
    user: UserRecord | undefined;
    customer: CustomerRecord | undefined;
  },
  modelGroup: string,
  tags: string[],
): Promise<AdmissionScope[]> {
  return admissionScopes(
    caller,
    owners.team,
    owners.user,
    owners.customer,
    modelGroup,
    await budgetedTags(deps.lookups.tags, tags),
  );
}

/**
 * Admits a call against its scopes (refusing it with LiteLLM's 429 when a budget or limit is
 * spent) and records the reservation on the wide event, to be settled when the call ends.
 */
export async function admitModelCall(
  deps: AppDeps,
  event: RequestEvent,
  admission: {
    scopes: AdmissionScope[];
    estimate: () => CallEstimate;
    price: (usage: UsageToPrice) => PriceResult;
  },
): Promise<void> {
  event.reservation = await admitCall({
    ledger: deps.admission,
    requestId: event.requestId,
    ...admission,
  });
}

/**
 * The key's, team's and owner's budgets as the call found them (for the budget gauges), and
 * what the key had left on this model: live spend from the admission counters when they hold
 * it, else the cached records'.
 */
function noteBudgetsAndLimits(
  event: RequestEvent,
  caller: Caller,
  team: TeamRecord | undefined,
  user: UserRecord | undefined,
  modelGroup: string,
): void {
  const reservation = event.reservation;
  const remainingOf = (scopeId: string) => {
    const i = reservation?.scopeIds.indexOf(scopeId) ?? -1;
    return i >= 0 ? reservation?.remaining[i] : undefined;
  };
  const budgets: NonNullable<RequestEvent['budgets']> = [];
  const note = (
    entity: 'key' | 'team' | 'user',
    scopeId: string,
    record: { maxBudget: string | null; spend: string; budgetResetAtMs: number | null },
  ) => {
    if (record.maxBudget === null) return;
    const live = remainingOf(scopeId)?.spentNanos;
    budgets.push({
      entity,
      maxBudgetUsd: Number(record.maxBudget),
      spentUsd: live !== undefined ? live / 1e9 : Number(record.spend),
      resetAtMs: record.budgetResetAtMs,
    });
  };
  if (caller.kind === 'virtual') {
    const keyHash = caller.key.tokenHash;
    note('key', scopeId({ kind: 'key', keyHash }), caller.key);
    const left = remainingOf(scopeId({ kind: 'model', keyHash, model: modelGroup }));
    if (left) event.keyModelRemaining = left;
  }
  if (team) note('team', scopeId({ kind: 'team', id: team.teamId }), team);
  if (user) note('user', scopeId({ kind: 'user', id: user.userId }), user);
  if (budgets.length > 0) event.budgets = budgets;
}

/**
 * The upstream a caller chose in the body (`api_base`/`base_url`, `api_key`), when its key is
 * allowed to and the URL is on the operator's allowlist (never a cloud metadata address).
 * Anything else that would choose the upstream is refused, naming the field.
 */
function clientChosenUpstream(
  deps: AppDeps,
  caller: Caller,
  rawBody: Record<string, unknown>,
): { apiBase?: string; apiKey?: string } {
  const fields = upstreamOverrideFields.filter((field) => rawBody[field] !== undefined);
  if (fields.length === 0) return {};
  const allowed =
    deps.clientUpstreams.allowAllKeys ||
    caller.kind === 'master' ||
    (caller.kind === 'virtual' && caller.key.allowClientSideCredentials);
  const unsupported = fields.find(
    (field) => field !== 'api_base' && field !== 'base_url' && field !== 'api_key',
  );
  if (!allowed || unsupported) {
    const field = unsupported ?? fields[0]!;
    throw new GatewayHttpError({
      kind: 'invalid_request',
      param: field,
      message: `${field} may not be set in the request body: upstreams and their keys come from the gateway's config${allowed ? '' : ' (an admin can allow api_base and api_key for a key with permissions.allow_client_side_credentials)'}.`,
    });
  }
  const chosen: { apiBase?: string; apiKey?: string } = {};
  const base = rawBody.api_base ?? rawBody.base_url;
  if (base !== undefined) {
    const param = rawBody.api_base !== undefined ? 'api_base' : 'base_url';
    const check =
      typeof base === 'string' ? checkClientApiBase(base, deps.clientUpstreams.allowlist) : undefined;
    if (!check?.ok) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param,
        message: `${param} ${check ? check.reason : 'must be a string'}.`,
      });
    }
    chosen.apiBase = check.url.toString().replace(/\/$/, '');
  }
  if (rawBody.api_key !== undefined) {
    if (typeof rawBody.api_key !== 'string') {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'api_key',
        message: 'api_key must be a string.',
      });
    }
    chosen.apiKey = rawBody.api_key;
  }
  return chosen;
}

function upstreamKey(
  chosen: { apiBase?: string; apiKey?: string },
  deployment: Deployment,
): { apiKey?: string } {
  const apiKey = chosen.apiBase !== undefined ? chosen.apiKey : (chosen.apiKey ?? deployment.apiKey);
  return apiKey !== undefined ? { apiKey } : {};
}

/**
 * The most output a call to this deployment can produce when it sets no `max_tokens`: the
 * configured `model_info.max_output_tokens`, else the model's own cap, else a default.
 */
export function maxOutputTokensOf(deployment: Deployment): number {
  return (
    deployment.maxOutputTokens ??
    modelMaxOutputTokens(deployment.provider, deployment.upstreamModel) ??
    DEFAULT_MAX_OUTPUT_TOKENS
  );
}

export function priceCall(
  deployment: Pick<Deployment, 'provider' | 'upstreamModel' | 'priceOverrides' | 'pricedAs'>,
  usage: Usage,
  at: Date,
  callerChosenUpstream = false,
): PriceResult {
  return priceUsage({
    provider: deployment.pricedAs?.provider ?? deployment.provider,
    model: deployment.pricedAs?.model ?? deployment.upstreamModel,
    usage,
    at,
    overrides: deployment.priceOverrides,
    // Only OpenRouter's reported cost is trusted (and only from the configured OpenRouter):
    // any other upstream could set its own price.
    ...(deployment.provider === 'openrouter' && !callerChosenUpstream && usage.providerCostUsd !== undefined
      ? { providerCostUsd: usage.providerCostUsd }
      : {}),
  });
}

export interface CallResponseInfo {
  upstream: UpstreamResponseInfo;
  droppedParams: string[];
}

const MAX_RETRY_DELAY_MS = 5_000;

function isRetryable(error: GatewayError): boolean {
  return (error.kind === 'upstream_error' && error.retryable) || error.kind === 'upstream_timeout';
}

/** How often a call may be tried again, what it records its attempts on, and what stops it. */
export interface RetryPolicy {
  /** Retries after the first attempt (`num_retries`). */
  retries: number;
  call: ModelCall | undefined;
  signal: AbortSignal | undefined;
}

/** A prepared call's retry policy: its deployment's `num_retries`. */
export function retryPolicy(prepared: PreparedCall): RetryPolicy {
  return {
    retries: prepared.deployment.numRetries ?? 0,
    call: prepared.call,
    signal: prepared.target.signal,
  };
}

/**
 * An answer that came back whole but says to try again (a relayed 429 or 5xx), with what it
 * takes to let it go; undefined for an answer to keep.
 */
export type RetryableAnswer<T> = (
  value: T,
) => { status: number; retryAfterSeconds: number | undefined; discard: () => Promise<void> } | undefined;

/**
 * Calls `attempt` until it succeeds, fails for good, or the retries are used up. Only failures
 * before any output are retried (a stream that started is never replayed). Waits the upstream's
 * `retry-after` when it gives one (seconds or an HTTP date), else 250 ms doubling, at most 5 s.
 * With `retryableAnswer`, an answer relayed as it came (its status the upstream's) is retried
 * like a failure while retries remain, and returned as it is after the last.
 */
export async function withRetries<T>(
  policy: RetryPolicy | PreparedCall,
  attempt: () => Promise<Result<T>>,
  retryableAnswer?: RetryableAnswer<T>,
): Promise<T> {
  const { retries, call, signal } = 'deployment' in policy ? retryPolicy(policy) : policy;
  const clock = attemptClock(call);
  for (let n = 0; ; n++) {
    clock.start();
    const result = await attempt();
    const again = result.ok ? retryableAnswer?.(result.value) : undefined;
    // A stream's answer is complete only when it ends (its end is the request's).
    if (!call?.stream || !result.ok || again) clock.answered();
    const last = n >= retries || signal?.aborted === true;
    let hinted: number | undefined;
    if (result.ok) {
      if (!again || last) {
        if (call) noteUpstreamRemaining(call, result.value);
        return result.value;
      }
      clock.retrying(again.status);
      await again.discard();
      hinted = again.retryAfterSeconds;
    } else {
      if (last || !isRetryable(result.error)) throw new GatewayHttpError(result.error);
      clock.retrying(statusOf(result.error), result.error);
      if (result.error.kind === 'upstream_error') hinted = result.error.retryAfterSeconds;
    }
    if (call) call.attemptedRetries = n + 1;
    const delayMs = Math.min(hinted !== undefined ? hinted * 1000 : 250 * 2 ** n, MAX_RETRY_DELAY_MS);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/** The upstream's own `x-ratelimit-remaining-*` headers, when its answer carries them. */
function noteUpstreamRemaining(call: ModelCall, value: unknown): void {
  const headers = (value as { upstream?: UpstreamResponseInfo } | undefined)?.upstream?.headers;
  if (!headers) return;
  const requests = Number(headers['x-ratelimit-remaining-requests']);
  const tokens = Number(headers['x-ratelimit-remaining-tokens']);
  const remaining = {
    ...(headers['x-ratelimit-remaining-requests'] !== undefined && Number.isFinite(requests)
      ? { requests }
      : {}),
    ...(headers['x-ratelimit-remaining-tokens'] !== undefined && Number.isFinite(tokens) ? { tokens } : {}),
  };
  if (Object.keys(remaining).length > 0) call.upstreamRemaining = remaining;
}

/** Calls the model, without streaming; records usage and price on the wide event. */
export async function runChat(
  prepared: PreparedChat,
  startedAt: Date,
): Promise<{ result: ChatResult } & CallResponseInfo> {
  const { result, upstream, droppedParams } = await withRetries(prepared, () =>
    prepared.adapter.chat(prepared.request, prepared.target),
  );
  recordAnswer(
    prepared,
    startedAt,
    { id: result.id, model: result.model, usage: result.usage },
    droppedParams,
  );
  return { result, upstream, droppedParams };
}

/**
 * Relays a client's own body to a deployment of its dialect, without streaming: the answer
 * is the upstream's text as it came, read once for its usage, which is recorded and priced.
 */
export async function runRelayedChat(
  prepared: PreparedCall,
  body: Record<string, unknown>,
  startedAt: Date,
): Promise<{ relayed: RelayedChat } & CallResponseInfo> {
  const relay = prepared.adapter.relayChat;
  if (!relay) throw new Error(`provider ${prepared.adapter.id} has no relay`);
  const relayed = await withRetries(prepared, () => relay(body, prepared.target));
  recordAnswer(prepared, startedAt, relayed, relayed.droppedParams);
  return { relayed, upstream: relayed.upstream, droppedParams: relayed.droppedParams };
}

function recordAnswer(
  prepared: PreparedCall,
  startedAt: Date,
  answer: { id?: string | undefined; model?: string | undefined; usage: Usage },
  droppedParams: string[],
): void {
  const call = prepared.call;
  call.usage = answer.usage;
  if (answer.model !== undefined) call.responseModel = answer.model;
  if (answer.id !== undefined) call.providerResponseId = answer.id;
  call.droppedParams = droppedParams;
  call.price = priceCall(prepared.deployment, answer.usage, startedAt, call.callerChosenUpstream);
}

/**
 * Starts a streamed call. From here the stream owns the wide event: it is priced and closed
 * when the stream ends, fails, or the client goes away.
 */
export function runChatStream(
  prepared: PreparedChat,
  finish: FinishRequestEvent,
): Promise<{ events: EventReader } & CallResponseInfo> {
  return runStream(prepared, finish, {
    start: () => prepared.adapter.chatStream(prepared.request, prepared.target),
    prompt: () => chatRequestText(prepared.request),
  });
}

/**
 * Starts a streamed call (`start`, retried while nothing was streamed) and meters its events
 * ({@link meterCallStream}), priced by the deployment.
 */
export async function runStream(
  prepared: PreparedCall,
  finish: FinishRequestEvent,
  options: { start: () => Promise<Result<ChatStreamResponse>>; prompt: () => PromptText },
): Promise<{ events: EventReader } & CallResponseInfo> {
  const response = await withRetries(prepared, options.start);
  const { call, deployment, input } = prepared;
  call.droppedParams = response.droppedParams;
  const events = meterCallStream(input.event, input.signal, finish, {
    call,
    events: response.events,
    price: (usage, at) => priceCall(deployment, usage, at, call.callerChosenUpstream),
    prompt: options.prompt,
  });
  return { events, upstream: response.upstream, droppedParams: response.droppedParams };
}

/**
 * Meters a model call's stream: from here the stream owns the wide event. Usage, first token
 * and price are recorded, and the event is closed exactly once, whichever way the stream ends
 * (finished, failed, cut, or the client gone: `signal`). `prompt` is what the call sent,
 * counted only if the provider never reported its usage.
 */
export function meterCallStream(
  event: RequestEvent,
  signal: AbortSignal,
  finish: FinishRequestEvent,
  options: {
    call: ModelCall;
    events: ReadableStream<StreamEvent[]>;
    price: (usage: Usage, at: Date) => PriceResult;
    prompt?: () => PromptText;
  },
): EventReader {
  const { call } = options;
  event.deferred = true;
  return meterStream(
    options.events,
    call,
    (result, streamedText) => {
      event.endedAt = new Date();
      event.outcome = result.outcome;
      if (result.outcome === 'failure') event.error = result.error;
      // Usage the provider never sent (a stream cut early) is counted from the text instead.
      completeUsage(call, { prompt: options.prompt, output: streamedText }, () => {
        // Price whatever was used: usage still unknown is recorded as unpriced, never as free.
        if (result.outcome === 'success' || producedOutput(call)) {
          call.price = options.price(call.usage, event.startedAt);
        }
        finish(event, 200);
      });
    },
    signal,
  );
}

/**
 * A client-influenced text made fit for a header value: anything but printable ASCII is
 * percent-encoded (Node refuses control characters and anything past Latin-1 in headers).
 */
export function headerSafe(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : text.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
}

/**
 * LiteLLM's informational headers on model routes (contract §7); empty values are left out.
 * Every upstream header comes along prefixed `llm_provider-`, and the upstream's own
 * `x-ratelimit-*` headers as they are. Parameters the provider could not honour are listed in
 * `x-gateway-dropped-params`.
 */
export function callHeaders(
  caller: Caller,
  prepared: PreparedCall,
  info: CallResponseInfo,
  requestId: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(info.upstream.headers)) {
    headers[`llm_provider-${name}`] = value;
    if (name.startsWith('x-ratelimit-')) headers[name] = value;
  }
  const { deployment, call } = prepared;
  if (info.droppedParams.length > 0)
    headers['x-gateway-dropped-params'] = headerSafe(info.droppedParams.join(', '));
  // Our own remaining limits win over the upstream's x-ratelimit-* copied above.
  Object.assign(headers, admissionHeaders(prepared.reservation));
  headers['x-litellm-call-id'] = requestId;
  if (call.attemptedRetries) headers['x-litellm-attempted-retries'] = String(call.attemptedRetries);
  // A wildcard route's model group is the name the client sent.
  headers['x-litellm-model-group'] = headerSafe(deployment.modelName);
  headers['x-litellm-model-id'] = deployment.deploymentId;
  headers['x-litellm-model-api-base'] = deployment.apiBase;
  if (call.price?.priced) headers['x-litellm-response-cost'] = call.price.costUsd;
  if (caller.kind === 'virtual') {
    headers['x-litellm-key-spend'] = caller.key.spend;
    if (caller.key.maxBudget !== null) headers['x-litellm-key-max-budget'] = caller.key.maxBudget;
  }
  return headers;
}

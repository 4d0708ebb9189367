import type { NewSpendLogRow } from '@gateway/db';
import type { PriceResult } from '@gateway/pricing';
import type { Usage } from '@gateway/providers';
import type { Reservation } from '../admission/ledger.ts';
import type { GatewayError } from '../errors.ts';

/** The model call part of a request, present once a deployment was chosen. */
export interface ModelCall {
  callType:
    | 'acompletion'
    | 'atext_completion'
    | 'aembedding'
    | 'aimage_generation'
    | 'anthropic_messages'
    | 'pass_through_endpoint';
  modelGroup: string;
  deploymentId: string;
  provider: string;
  apiBase: string;
  /** The model we asked for upstream. */
  upstreamModel: string;
  /** The model the upstream said answered (e.g. a dated snapshot). */
  responseModel?: string;
  providerResponseId?: string;
  stream: boolean;
  /** When the attempt that counted was sent upstream, and when its answer was complete. */
  upstreamStartedAt?: Date;
  upstreamEndedAt?: Date;
  /** Time spent before that attempt in failed attempts and waits between retries, ms. */
  retriedMs?: number;
  /** Upstream attempts that failed and were retried (each a deployment failure). */
  failedAttempts?: { status: number; error?: GatewayError }[];
  /** What the upstream said is left of its own limits (`x-ratelimit-remaining-*`). */
  upstreamRemaining?: { requests?: number; tokens?: number };
  firstTokenAt?: Date;
  usage: Usage;
  /** Buckets the provider never reported, estimated by counting tokens (a stream cut early). */
  estimatedUsage?: ('input' | 'output')[];
  price?: PriceResult;
  endUser?: string;
  tags: string[];
  /** Request parameters the provider could not honour and that were not sent. */
  droppedParams?: string[];
  /** How many times a failed attempt was retried before the one that counted. */
  attemptedRetries?: number;
  /** The caller chose the upstream (`api_base` in the body): its reported costs are not trusted. */
  callerChosenUpstream?: boolean;
}

/**
 * One wide event per request: everything worth knowing about it, filled in as the request
 * goes and emitted exactly once at its end. The log line, the spend row (and later the
 * metrics) all come from it.
 */
export interface RequestEvent {
  requestId: string;
  method: string;
  path: string;
  startedAt: Date;
  endedAt?: Date;
  status?: number;
  outcome?: 'success' | 'failure' | 'client_closed';
  error?: GatewayError;
  /** Key fingerprint (hash) and ownership; never the raw key. */
  keyHash?: string;
  keyAlias?: string | null;
  userId?: string | null;
  teamId?: string | null;
  teamAlias?: string | null;
  organizationId?: string | null;
  /** The model the client asked for, known before a deployment is chosen. */
  requestedModel?: string;
  call?: ModelCall;
  /** Budgets the call counted against when admitted (for the budget gauges). */
  budgets?: {
    entity: 'key' | 'team' | 'user';
    maxBudgetUsd: number;
    spentUsd: number;
    resetAtMs: number | null;
  }[];
  /** What the key had left on this model when admitted (its `model_rpm_limit` / `model_tpm_limit`). */
  keyModelRemaining?: { requests?: number; tokens?: number };
  /** What the call holds against its budgets and limits until it ends. */
  reservation?: Reservation;
  /** Set by a streaming handler: it emits the event itself when the stream ends. */
  deferred?: boolean;
}

/** Whether the model produced output or reported usage (so the call may have been billed). */
export function producedOutput(call: ModelCall): boolean {
  return (
    call.firstTokenAt !== undefined ||
    call.usage.inputTokens !== undefined ||
    call.usage.outputTokens !== undefined
  );
}

/** Postgres text and jsonb cannot hold NUL: a client-influenced string loses it on the way to a row. */
const storable = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text);
const storableOrNull = (text: string | undefined): string | null =>
  text === undefined ? null : storable(text);

/**
 * The spend-log row of a request that reached a model, or undefined for one that did not
 * (auth failures, bad bodies). An upstream error before any output is billed as 0: the
 * provider charges nothing for it. A cost that cannot be determined (a stream cut before its
 * usage arrived) is NULL with the reason, never 0.
 */
export function toSpendRow(event: RequestEvent): NewSpendLogRow | undefined {
  const call = event.call;
  if (!call || !event.keyHash) return undefined;
  const endedAt = event.endedAt ?? new Date();
  const usage = call.usage;
  const price = call.price;
  let spend: string | null = null;
  let pricing: NewSpendLogRow['pricing'];
  if (price?.priced) {
    spend = price.costUsd;
    pricing = {
      source: price.source,
      ...(call.estimatedUsage?.length ? { estimatedUsage: call.estimatedUsage } : {}),
      ...(price.catalogModelId ? { catalogModelId: price.catalogModelId } : {}),
      ...(price.unitPrices ? { unitPrices: { ...price.unitPrices } } : {}),
    };
  } else if (price) {
    pricing = { source: 'none', unpricedReason: price.reason };
  } else if (event.outcome !== 'success' && !producedOutput(call)) {
    // Refused or failed before the model produced anything: providers do not bill that.
    spend = '0';
    pricing = { source: 'not_billed' };
  } else {
    pricing = { source: 'none', unpricedReason: 'unknown_usage' };
  }
  const total =
    usage.inputTokens !== undefined && usage.outputTokens !== undefined
      ? usage.inputTokens + usage.outputTokens
      : undefined;
  return {
    requestId: event.requestId,
    callType: call.callType,
    apiKey: event.keyHash,
    spend,
    pricing,
    promptTokens: usage.inputTokens ?? null,
    completionTokens: usage.outputTokens ?? null,
    totalTokens: total ?? null,
    cacheReadInputTokens: usage.cacheReadTokens ?? null,
    cacheCreationInputTokens: usage.cacheWriteTokens ?? null,
    cacheCreation1hInputTokens: usage.cacheWrite1hTokens ?? null,
    reasoningTokens: usage.reasoningTokens ?? null,
    startTime: event.startedAt,
    endTime: endedAt,
    completionStartTime: call.firstTokenAt ?? endedAt,
    requestDurationMs: endedAt.getTime() - event.startedAt.getTime(),
    model: storable(call.responseModel ?? call.upstreamModel),
    modelId: call.deploymentId,
    modelGroup: storable(call.modelGroup),
    customLlmProvider: call.provider,
    apiBase: call.apiBase,
    user: event.userId ?? '',
    teamId: event.teamId ?? null,
    organizationId: event.organizationId ?? null,
    endUser: call.endUser ?? null,
    requestTags: call.tags,
    status: event.outcome === 'success' ? 'success' : 'failure',
    metadata: {
      user_api_key: event.keyHash,
      user_api_key_alias: event.keyAlias ?? null,
      user_api_key_team_id: event.teamId ?? null,
      user_api_key_user_id: event.userId ?? null,
      user_api_key_org_id: event.organizationId ?? null,
      provider_response_id: storableOrNull(call.providerResponseId),
      stream: call.stream,
      ...(call.droppedParams?.length ? { dropped_params: call.droppedParams.map(storable) } : {}),
      ...(call.attemptedRetries ? { attempted_retries: call.attemptedRetries } : {}),
      ...(usage.webSearchRequests ? { web_search_requests: usage.webSearchRequests } : {}),
      ...(event.outcome === 'client_closed' ? { client_closed: true } : {}),
      ...(call.estimatedUsage?.length ? { usage_estimated: call.estimatedUsage } : {}),
      ...(event.error
        ? {
            error_information: {
              error_class: event.error.kind,
              error_message: storable(event.error.message),
            },
          }
        : {}),
    },
  };
}

/**
 * Times a call's upstream attempts: `start()` before each, `retrying()` when one failed and
 * another follows, `answered()` once the answer is complete (a stream's end is the request's).
 */
export function attemptClock(call: ModelCall | undefined) {
  const first = Date.now();
  return {
    start() {
      if (!call) return;
      call.upstreamStartedAt = new Date();
      call.retriedMs = call.upstreamStartedAt.getTime() - first;
      delete call.upstreamEndedAt;
    },
    retrying(status: number, error?: GatewayError) {
      if (!call) return;
      call.failedAttempts ??= [];
      call.failedAttempts.push({ status, ...(error ? { error } : {}) });
    },
    answered() {
      if (call) call.upstreamEndedAt = new Date();
    },
  };
}

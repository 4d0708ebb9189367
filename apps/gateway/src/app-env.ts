import type { DatabaseHandle } from '@gateway/db';
import type { AnthropicPassthrough, ProviderAdapter } from '@gateway/providers';
import type { Logger } from 'pino';
import type { SoftBudgetCrossing } from './admission/admission.ts';
import type { AdmissionLedger } from './admission/ledger.ts';
import type { KeyRecord, Lookups } from './lookups/lookups.ts';
import type { GatewayMetrics } from './metrics/gateway-metrics.ts';
import type { ClientRequest } from './middleware/client-request.ts';
import type { ModelRouter } from './model-call/model-router.ts';
import type { RequestEvent } from './request/request-event.ts';
import type { SpendQueue } from './spend/spend-writer.ts';

/** Who is calling: the master key (proxy admin) or a virtual key. */
export type Caller = { kind: 'master'; keyHash: string } | { kind: 'virtual'; key: KeyRecord };

/** Typed per-request variables of the Hono context. */
export interface AppEnv {
  Variables: {
    event: RequestEvent;
    caller: Caller;
    /** Which error shape the caller speaks; routes in Anthropic format set `anthropic`. */
    dialect: 'openai' | 'anthropic';
    /** The caller's headers, body and disconnect signal (see client-request.ts). */
    client: ClientRequest;
    /** The route built its response with `x-litellm-call-id` already (see modelJson). */
    callIdSent: boolean;
    /** Largest request body read, bytes (`general_settings.max_request_size_mb`). */
    maxRequestBytes: number;
  };
}

/** Everything the app needs, built once by main.ts (or by a test). createApp does no I/O. */
export interface AppDeps {
  /**
   * `draining` is set once shutdown began (readiness fails while in-flight requests drain);
   * `open` counts requests whose wide event is not closed yet (a stream's closes when it ends).
   */
  lifecycle?: { draining: boolean; open: number };
  /** SHA-256 hex of the master key. */
  masterKeyHash: string;
  /** With spend-row retention: the oldest instant whose rows are all kept (reconciliation starts there). */
  retainedFrom?: () => Date;
  database: DatabaseHandle;
  /** Keys, teams and customers as the request path reads them (cached). */
  lookups: Lookups;
  spendQueue: Pick<SpendQueue, 'enqueue' | 'depths' | 'flush'>;
  /** Budget and rate-limit counters (Redis, or this process): admission before calls, settled after. */
  admission: AdmissionLedger;
  /** Reports a soft budget crossed (metric, log, optional webhook). */
  onSoftBudgetCrossed: (crossing: SoftBudgetCrossing) => void;
  /** The process's Prometheus metrics, served on `/metrics`. */
  metrics: GatewayMetrics;
  /** Largest request body a model route reads, bytes; a larger one is refused with 413. */
  maxRequestBytes?: number;
  /** `/metrics` asks for a key. */
  metricsRequireAuth?: boolean;
  /** What `/metrics` serves when it is not this process's registry alone (a `WORKERS=N` cluster). */
  metricsText?: (() => Promise<string>) | undefined;
  router: ModelRouter;
  /** Adapter per provider id; a provider without one is refused with a clear 400. */
  adapters: ReadonlyMap<string, ProviderAdapter>;
  logger: Logger;
  /** Request headers that name the end user (lower case, first match wins). */
  endUserHeaders: readonly string[];
  /** A stream's final usage chunk carries `usage.cost` (LiteLLM's `include_cost_in_streaming_usage`). */
  includeCostInStreamingUsage?: boolean;
  /** Who may choose an upstream in the request body, and which upstreams. */
  clientUpstreams: { allowAllKeys: boolean; allowlist: string[] };
  /** The native `/anthropic/*` pass-through: where it goes and with which key. */
  anthropicPassthrough: { client: AnthropicPassthrough; apiBase: string; apiKey: string | undefined };
  /** `"redis"` when a shared cache is configured, else null (reported by readiness). */
  cacheKind: 'redis' | null;
  version: string;
}

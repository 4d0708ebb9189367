import type { PriceResult } from '@gateway/pricing';
import type { Caller } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import type { CustomerRecord, TagRecord, TeamRecord, UserRecord } from '../lookups/lookups.ts';
import { addDuration, windowStart } from '../support/duration.ts';
import {
  type AdmissionLedger,
  type AdmissionScope,
  type Reservation,
  type ScopeOwner,
  scopeId,
  toNanos,
} from './ledger.ts';

/** What a call may use at most: its prompt (estimated) and its output cap. */
export interface CallEstimate {
  inputTokens: number;
  outputTokens: number;
}

/**
 * The output a call is assumed to produce when it sets no `max_tokens` and its model's cap is
 * unknown, for its budget reservation only (the call is settled at its real cost).
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

/** What a call that cannot be priced before it runs reserves: enough to be refused by a spent budget. */
export const UNPRICED_RESERVATION_NANOS = 1;

/**
 * Tokens an image can cost on the providers we price: Anthropic resizes to ~1.15 megapixels
 * (~1,600 tokens), OpenAI's tile models stop at 1,445 and its patch models at ~2,500.
 */
export const IMAGE_TOKENS_AT_MOST = 2_500;
/** A PDF page: Anthropic bills its text and an image of it, up to ~3,000 tokens a page. */
export const DOCUMENT_PAGE_TOKENS_AT_MOST = 3_000;
/** Pages assumed for a document the gateway cannot read (a URL or a provider file id). */
export const UNREAD_DOCUMENT_PAGES = 10;

// Any UTF-16 code unit outside 7-bit ASCII (surrogates included).
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Input tokens a text can hardly exceed. ASCII: a third of its length (few tokens are under
 * three characters of English or code). Anything else: its UTF-8 bytes, a true upper bound for
 * byte-level tokenizers, where no token is shorter than a byte (a Chinese character or an
 * emoji can be a token or more, so characters / 3 undercounts them).
 */
export function textTokensAtMost(text: string): number {
  if (!NON_ASCII.test(text)) return text.length / 3;
  let ascii = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return ascii / 3 + bytes;
}

/** What a prompt holds, for its token bound: text, framing per message, images, document pages. */
export interface PromptSize {
  text: string;
  messages: number;
  images?: number;
  documentPages?: number;
}

/** Input tokens a prompt can hardly exceed: its text's bound, plus framing, images and pages. */
export function inputTokensAtMost(prompt: PromptSize): number {
  return Math.ceil(
    textTokensAtMost(prompt.text) +
      prompt.messages * 4 +
      (prompt.images ?? 0) * IMAGE_TOKENS_AT_MOST +
      (prompt.documentPages ?? 0) * DOCUMENT_PAGE_TOKENS_AT_MOST,
  );
}

const PAGE_OBJECT = /\/Type\s*\/Page(?![a-zA-Z])/g;

/**
 * Pages of a document given as a `data:` URL or bare base64 (a PDF's `/Type /Page` objects);
 * UNREAD_DOCUMENT_PAGES for one the gateway cannot read. At least one.
 */
export function documentPages(base64OrDataUrl: string | undefined): number {
  if (!base64OrDataUrl) return UNREAD_DOCUMENT_PAGES;
  const comma = base64OrDataUrl.startsWith('data:') ? base64OrDataUrl.indexOf(',') : -1;
  const bytes = Buffer.from(base64OrDataUrl.slice(comma + 1), 'base64').toString('latin1');
  const pages = bytes.match(PAGE_OBJECT)?.length ?? 0;
  return Math.max(1, pages);
}

/** An amount as LiteLLM prints it: Python's float repr (`10.0`, `0.000123`, `1.53e-05`). */
export function pythonFloat(nanos: number): string {
  const usd = nanos / 1e9;
  const magnitude = Math.abs(usd);
  if (usd !== 0 && (magnitude < 1e-4 || magnitude >= 1e16)) {
    // Shortest round-trip digits, with at least two exponent digits, as Python writes them.
    const [mantissa, exponent = '0'] = usd.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return Number.isInteger(usd) ? `${usd}.0` : String(usd);
}

/** LiteLLM's v3 limiter names each limited thing a descriptor (contract §5.4). */
const DESCRIPTORS: Record<string, string> = {
  key: 'api_key',
  team: 'team',
  customer: 'end_user',
  user: 'user',
  tag: 'tag',
  model: 'model_per_key',
};

/** Characters a model name may hold that a header name may not. */
const NOT_IN_HEADER_NAME = /[/:]/g;

/** What a scope's owner is called in messages and headers. */
function ownerName(owner: ScopeOwner | undefined): string {
  if (!owner) return '';
  switch (owner.kind) {
    case 'key':
      return owner.keyHash;
    case 'model':
    case 'model_budget':
      return owner.model;
    default:
      return owner.id;
  }
}

/** A scope made for its owner, its id derived from it. */
const owned = (owner: ScopeOwner, scope: Omit<AdmissionScope, 'id' | 'owner'>): AdmissionScope => ({
  id: scopeId(owner),
  owner,
  ...scope,
});

/** `YYYY-MM-DD HH:MM:SS` in UTC, as LiteLLM prints reset times. */
const utcTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function budgetRefusal(scope: AdmissionScope, spentNanos: number): GatewayHttpError {
  const { owner } = scope;
  const kind = owner?.kind ?? '';
  const value = ownerName(owner);
  const key = owner?.kind === 'model_budget' ? owner.keyHash : undefined;
  const spent = pythonFloat(spentNanos);
  const limit = pythonFloat(scope.budget!.limitNanos);
  // LiteLLM's message for each kind of budget (contract §5.1).
  const messages: Record<string, string> = {
    model_budget: `LiteLLM Virtual Key: ${key}, exceeded budget for model=${value}. Current cost: ${spent}, Max budget: ${limit}`,
    team: `Budget has been exceeded! Team=${value} Current cost: ${spent}, Max budget: ${limit}`,
    tag: `Budget has been exceeded! Tag=${value} Current cost: ${spent}, Max budget: ${limit}`,
    customer: `ExceededBudget: End User=${value} over budget. Spend=${spent}, Budget=${limit}`,
    user: `ExceededBudget: User=${value} over budget. Spend=${spent}, Budget=${limit}`,
  };
  const message = messages[kind] ?? `Budget has been exceeded! Current cost: ${spent}, Max budget: ${limit}`;
  // 429, as LiteLLM's newest versions answer (older ones: 400); the type says why.
  return new GatewayHttpError({ kind: 'rate_limited', type: 'budget_exceeded', message });
}

function limitRefusal(
  scope: AdmissionScope,
  reason: 'requests' | 'tokens' | 'max_parallel_requests',
  limit: number,
  retryAfterMs: number,
): GatewayHttpError {
  const kind = scope.owner?.kind ?? '';
  const value = ownerName(scope.owner);
  const resetAt = Date.now() + Math.max(0, retryAfterMs);
  return new GatewayHttpError({
    kind: 'rate_limited',
    // LiteLLM's v3 limiter sends the literal "None" as type and param.
    type: 'None',
    message: `Rate limit exceeded for ${DESCRIPTORS[kind] ?? kind}: ${value}. Limit type: ${reason}. Current limit: ${limit}, Remaining: 0. Limit resets at: ${utcTime(resetAt)} UTC`,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    headers: { rate_limit_type: reason, reset_at: utcTime(resetAt) },
  });
}

const limitsOf = (
  rpm: number | null | undefined,
  tpm: number | null | undefined,
  parallel?: number | null,
) => {
  const limits = {
    ...(rpm != null ? { rpm } : {}),
    ...(tpm != null ? { tpm } : {}),
    ...(parallel != null ? { parallel } : {}),
  };
  return Object.keys(limits).length > 0 ? limits : undefined;
};

/** A record's own rpm, tpm and parallel limits as a scope's `limits`, when it has any. */
const limitsFrom = (record: {
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxParallelRequests: number | null;
}): Pick<AdmissionScope, 'limits'> =>
  optional('limits', limitsOf(record.rpmLimit, record.tpmLimit, record.maxParallelRequests));

const numberIn = (map: unknown, name: string): number | undefined => {
  const value = map && typeof map === 'object' ? (map as Record<string, unknown>)[name] : undefined;
  return typeof value === 'number' ? value : undefined;
};

/**
 * The budgets and limits a call counts against: its key's (overall and for this model), its
 * team's or, for a personal key, its owner's, and its end user's.
 */
export function admissionScopes(
  caller: Caller,
  team: TeamRecord | undefined,
  user: UserRecord | undefined,
  customer: CustomerRecord | undefined,
  modelGroup: string,
  tags: TagRecord[] = [],
  now = new Date(),
): AdmissionScope[] {
  const scopes: AdmissionScope[] = [];
  const add = (scope: AdmissionScope) => {
    if (scope.budget || scope.limits) scopes.push(scope);
  };
  if (caller.kind === 'virtual') {
    const key = caller.key;
    add(owned({ kind: 'key', keyHash: key.tokenHash }, { ...budgetOf(key, true), ...limitsFrom(key) }));
    add(
      owned(
        { kind: 'model', keyHash: key.tokenHash, model: modelGroup },
        optional(
          'limits',
          limitsOf(
            numberIn(key.metadata.model_rpm_limit, modelGroup),
            numberIn(key.metadata.model_tpm_limit, modelGroup),
          ),
        ),
      ),
    );
    const modelBudget = modelBudgetOf(key.modelMaxBudget, modelGroup, now);
    if (modelBudget) {
      const windowStartMs = modelBudget.windowStart.getTime();
      add(
        owned(
          { kind: 'model_budget', keyHash: key.tokenHash, model: modelGroup, windowStartMs },
          {
            // Counted from zero in each window, in Redis only (as LiteLLM): the window's counter
            // is the model's spend on this key since the window began.
            budget: {
              limitNanos: modelBudget.limitNanos,
              seedNanos: 0,
              blockAtLimit: true,
              keepUntilMs: modelBudget.windowEnd.getTime(),
            },
          },
        ),
      );
    }
    if (team)
      add(owned({ kind: 'team', id: team.teamId }, { ...budgetOf(team, false), ...limitsFrom(team) }));
  }
  if (user) add(owned({ kind: 'user', id: user.userId }, { ...budgetOf(user, true), ...limitsFrom(user) }));
  if (customer) {
    add(
      owned(
        { kind: 'customer', id: customer.userId },
        { ...budgetOf(customer, false), ...limitsFrom(customer) },
      ),
    );
  }
  for (const tag of tags) {
    add(owned({ kind: 'tag', id: tag.name }, { ...budgetOf(tag, false), ...limitsFrom(tag) }));
  }
  return scopes;
}

/** The tags of a call that have a budget or limits (one cached lookup per tag). */
export async function budgetedTags(
  lookup: { get(name: string): Promise<TagRecord | undefined> },
  names: string[],
): Promise<TagRecord[]> {
  const found = await Promise.all(names.map((name) => lookup.get(name).catch(() => undefined)));
  return found.filter(
    (tag): tag is TagRecord =>
      tag !== undefined &&
      (tag.maxBudget !== null ||
        tag.rpmLimit !== null ||
        tag.tpmLimit !== null ||
        tag.maxParallelRequests !== null),
  );
}

/**
 * A key's budget for one model (`model_max_budget: {"<model>": {"budget_limit": 0.5,
 * "time_period": "1d"}}`), and the fixed window it is counted in (a UTC day for `1d`).
 */
function modelBudgetOf(
  modelMaxBudget: Record<string, unknown>,
  modelGroup: string,
  now: Date,
): { limitNanos: number; windowStart: Date; windowEnd: Date } | undefined {
  const entry = modelMaxBudget[modelGroup] as { budget_limit?: unknown; time_period?: unknown } | undefined;
  const limit = Number(entry?.budget_limit);
  if (!entry || !Number.isFinite(limit) || limit < 0) return undefined;
  const period = typeof entry.time_period === 'string' ? entry.time_period : '30d';
  const start = windowStart(now, period);
  const end = start && addDuration(start, period);
  return start && end ? { limitNanos: toNanos(limit), windowStart: start, windowEnd: end } : undefined;
}

/** A record's budget as a scope's, when it has a `max_budget`. */
function budgetOf(
  record: {
    spend: string;
    maxBudget: string | null;
    softBudget: string | null;
    budgetResetAtMs: number | null;
  },
  blockAtLimit: boolean,
): Pick<AdmissionScope, 'budget'> {
  if (record.maxBudget === null) return {};
  return {
    budget: {
      limitNanos: toNanos(record.maxBudget),
      seedNanos: toNanos(record.spend),
      ...(record.budgetResetAtMs !== null ? { periodMs: record.budgetResetAtMs } : {}),
      blockAtLimit,
      ...(record.softBudget !== null ? { softNanos: toNanos(record.softBudget) } : {}),
    },
  };
}

function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

/**
 * Admits a call against every budget and limit that applies, atomically across instances, or
 * refuses it with LiteLLM's error. Its worst-case cost is reserved on the budgets, so parallel
 * calls cannot all pass a check only one of them fits: spend can overshoot a budget by at most
 * the cost of the last call admitted. The reservation is settled when the call ends.
 */
export async function admitCall(input: {
  ledger: AdmissionLedger;
  requestId: string;
  scopes: AdmissionScope[];
  /** Worked out only when a budget applies: reading the prompt is not free. */
  estimate: () => CallEstimate;
  /** Prices usage as the call will be priced (the deployment's overrides included). */
  price: (usage: { inputTokens: number; outputTokens: number }) => PriceResult;
}): Promise<Reservation | undefined> {
  if (input.scopes.length === 0) return undefined;
  const worst = input.scopes.some((s) => s.budget) ? input.price(input.estimate()) : undefined;
  // A call that cannot cost anything (a free model) is never refused for budget. One that
  // cannot be priced before it runs (its cost known only after, as OpenRouter reports it)
  // reserves a nano-dollar: it is refused once the budget is spent.
  const amount = worst === undefined ? 0 : worst.priced ? toNanos(worst.costUsd) : UNPRICED_RESERVATION_NANOS;
  const result = await input.ledger.admit(input.requestId, input.scopes, amount);
  if (result.ok) return result.reservation;
  if (result.reason === 'budget') throw budgetRefusal(result.scope, result.spentNanos);
  throw limitRefusal(result.scope, result.reason, result.limit, result.retryAfterMs);
}

/** A soft budget a call's spend just went over (reported once: only one call crosses it). */
export interface SoftBudgetCrossing {
  /** `key`, `team`, `user` or `customer`. */
  entity: string;
  id: string;
  spendNanos: number;
  softNanos: number;
}

/**
 * Ends a call's reservation: its real cost (nothing when it could not be priced) and tokens.
 * When a budget's spend goes from under its soft budget to at or over it, `onSoftBudgetCrossed`
 * hears of it: settlement is atomic, so exactly one call per period crosses.
 */
export async function settleCall(
  reservation: Reservation | undefined,
  costUsd: string | undefined,
  tokens: number,
  onSoftBudgetCrossed: (crossing: SoftBudgetCrossing) => void,
): Promise<void> {
  if (!reservation) return;
  const actual = costUsd === undefined ? 0 : toNanos(costUsd);
  const after = await reservation.ledger.settle(reservation, actual, tokens);
  for (const [i, owner] of reservation.owners.entries()) {
    const softNanos = reservation.softNanos[i];
    const spendNanos = after[i];
    if (!owner || softNanos === undefined || spendNanos === undefined || actual <= 0) continue;
    if (spendNanos - actual < softNanos && spendNanos >= softNanos) {
      onSoftBudgetCrossed({ entity: owner.kind, id: ownerName(owner), spendNanos, softNanos });
    }
  }
}

/**
 * What a call had left when it was admitted, as response headers: LiteLLM's v3
 * `x-ratelimit-<descriptor>-remaining-<requests|tokens>`, the key's as
 * `x-ratelimit-remaining-requests` / `-tokens`, and a key's per-model limit as
 * `x-litellm-key-remaining-requests-<model>` / `-tokens-<model>`.
 */
export function admissionHeaders(reservation: Reservation | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!reservation) return headers;
  const overSoftBudget: string[] = [];
  for (const [i, owner] of reservation.owners.entries()) {
    const left = reservation.remaining[i];
    if (!left || !owner) continue;
    const { kind } = owner;
    const value = ownerName(owner);
    const descriptor = DESCRIPTORS[kind] ?? kind;
    const softNanos = reservation.softNanos[i];
    if (softNanos !== undefined && left.spentNanos !== undefined && left.spentNanos >= softNanos)
      overSoftBudget.push(descriptor);
    for (const unit of ['requests', 'tokens'] as const) {
      const count = left[unit];
      if (count === undefined) continue;
      headers[`x-ratelimit-${descriptor}-remaining-${unit}`] = String(Math.max(0, count));
      if (kind === 'key') headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, count));
      if (kind === 'model')
        headers[`x-litellm-key-remaining-${unit}-${value.replace(NOT_IN_HEADER_NAME, '-')}`] = String(
          Math.max(0, count),
        );
    }
  }
  // Ours: which soft budgets were already spent when the call was admitted.
  if (overSoftBudget.length > 0) headers['x-litellm-soft-budget-exceeded'] = overSoftBudget.join(', ');
  return headers;
}

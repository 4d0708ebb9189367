import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisOutage } from '../support/redis-outage.ts';
import { TurnBatch } from '../support/turn-batch.ts';

/**
 * One thing a call counts against (a key, its team, an end user, a key's model) with its budget
 * and its limits. Amounts are integer nano-dollars (USD × 1e9), exact below $9M.
 */
/**
 * Whom a scope's budget and limits belong to: a key (overall, on one model, or its budget for one
 * model in its current window), a team, an internal user, an end user, or a request tag.
 */
export type ScopeOwner =
  | { kind: 'key'; keyHash: string }
  | { kind: 'model'; keyHash: string; model: string }
  | { kind: 'model_budget'; keyHash: string; model: string; windowStartMs: number }
  | { kind: 'team'; id: string }
  | { kind: 'user'; id: string }
  | { kind: 'customer'; id: string }
  | { kind: 'tag'; id: string };

/** The id a scope's counters are kept under: the one place it is made from its owner. */
export function scopeId(owner: ScopeOwner): string {
  switch (owner.kind) {
    case 'key':
      return `key:${owner.keyHash}`;
    case 'model':
      return `key:${owner.keyHash}:model:${owner.model}`;
    case 'model_budget':
      return `key:${owner.keyHash}:model-budget:${owner.windowStartMs}:${owner.model}`;
    default:
      return `${owner.kind}:${owner.id}`;
  }
}

export interface AdmissionScope {
  /** Names the scope's counters; {@link scopeId} of its owner. */
  id: string;
  /** Whom it belongs to, for refusals, headers and alerts (absent only in the ledger's own tests). */
  owner?: ScopeOwner;
  budget?: {
    limitNanos: number;
    /** Spend the database last reported: the counter starts from it the first time. */
    seedNanos: number;
    /**
     * The budget's period as the database last reported it (`budget_reset_at` in epoch ms;
     * absent without a period). A later period than the counter's starts it again from the seed; an
     * earlier one (a stale cache) leaves the counter alone.
     */
    periodMs?: number | undefined;
    /** Blocks once spend reaches the limit (keys), or only once above it (teams, end users), as LiteLLM. */
    blockAtLimit: boolean;
    /** Crossing it never blocks; it is reported (header at admission, alert when crossed). */
    softNanos?: number | undefined;
    /**
     * The counter is the only record of this spend (a key's budget for one model) and is kept,
     * even idle, until then (epoch ms).
     */
    keepUntilMs?: number | undefined;
  };
  /** Over a sliding window: calls admitted, tokens used (input + output), calls in flight. */
  limits?: { rpm?: number | undefined; tpm?: number | undefined; parallel?: number | undefined };
}

export type LimitKind = 'requests' | 'tokens' | 'max_parallel_requests';

/** What a call holds until it ends, and what each scope had left when it was admitted. */
export interface Reservation {
  requestId: string;
  scopeIds: string[];
  /** Per scope (same order): whom it belongs to. */
  owners: (ScopeOwner | undefined)[];
  /** Scopes whose tokens count against a tpm limit. */
  tokenScopeIds: string[];
  amountNanos: number;
  /** Per scope (same order as admitted): requests and tokens left in the window, and budget spend. */
  remaining: { requests?: number; tokens?: number; spentNanos?: number }[];
  /** Per scope: its soft budget, if any. */
  softNanos: (number | undefined)[];
  /** Which ledger settles it. */
  ledger: AdmissionLedger;
  /** Admitted by this process's counters because Redis did not answer. */
  local?: boolean;
  /** Admitted ahead, on a ticket: far from every limit, so its settlement may wait for others. */
  ahead?: boolean;
}

export type AdmitResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; scope: AdmissionScope; reason: 'budget'; spentNanos: number }
  | { ok: false; scope: AdmissionScope; reason: LimitKind; limit: number; retryAfterMs: number };

export interface AdmissionLedger {
  /**
   * Atomically, across every scope: refuses the call when a budget is used up (its spend plus
   * what calls in flight reserved; never for a call that cannot cost anything, `amountNanos`
   * 0), when the window already holds `rpm` calls or `tpm` tokens, or when `parallel` calls are
   * in flight; else reserves `amountNanos`, counts the call and marks it in flight, everywhere.
   */
  admit(requestId: string, scopes: AdmissionScope[], amountNanos: number): Promise<AdmitResult>;
  /**
   * Ends the call: its reservation becomes its real cost, its tokens enter the window. Counts
   * once however often it is called, also after the reservation lapsed (a call that outlived
   * it). Resolves to each scope's budget spend right after (undefined without a budget
   * counter, or when the counters could not be reached).
   */
  settle(reservation: Reservation, actualNanos: number, tokens: number): Promise<(number | undefined)[]>;
  /**
   * Drops the budget counters of these scopes (an admin set their spend, or deleted or
   * re-created them): the next check starts again from the database.
   */
  forget(scopeIds: string[]): Promise<void>;
}

export interface LedgerTimings {
  /** The rate-limit window (LiteLLM's `LITELLM_RATE_LIMIT_WINDOW_SIZE`, 60 s). */
  windowMs: number;
  /** A reservation whose call never ended (its process died) lapses after this long. */
  reservationTtlMs: number;
}

export const DEFAULT_TIMINGS: LedgerTimings = { windowMs: 60_000, reservationTtlMs: 15 * 60_000 };
/**
 * Counters of scopes nobody used for this long are dropped (budgets start again from the
 * database); a call whose reservation lapsed may still settle for this long.
 */
const IDLE_TTL_MS = 24 * 3600_000;
/**
 * Settlements kept to send again while Redis is away. Releases (no cost) are dropped first:
 * their reservations lapse in Redis by themselves.
 */
const MAX_PENDING_RELEASES = 10_000;
const MAX_PENDING_SETTLEMENTS = 100_000;

/**
 * Calls admitted ahead ("tickets"). While calls with the same scopes arrive often and every
 * scope is far from its limits, the script call that checks a call also checks a few calls that
 * have not arrived yet, each exactly as if it had (budget reserved, request counted in the
 * window, parallel slot held). A call that then arrives takes one and goes on without waiting
 * for Redis; it settles like any other, under the ticket's id. A ticket not used within
 * TICKET_LIFE_MS is handed back: its reservation, slot and request are removed. So nothing
 * passes that a check at the ticket's issue would have refused, and no budget or limit can be
 * overshot across instances; what a ticket knows is up to TICKET_LIFE_MS old (tokens other
 * calls settled meanwhile, the counts left it reports in headers, the time its request counts
 * from).
 */
const TICKET_LIFE_MS = 1_000;
/** Calls are counted per slot of this length; a stock holds about a slot's calls. */
const RATE_SLOT_MS = 250;
const MAX_TICKETS = 32;
/** Tickets are issued only while limits and budgets leave this many times their needs free. */
const TICKET_HEADROOM = 20;

interface Ticket {
  id: string;
  amountNanos: number;
  issuedAt: number;
  remaining: Reservation['remaining'];
}

/** The tickets of one set of scopes (with the same budgets and limits), and how often it is called. */
interface TicketStock {
  signature: string;
  scopes: AdmissionScope[];
  keys: string[];
  /** The scopes' part of the script's arguments. */
  args: (string | number)[];
  /** Oldest first. */
  tickets: Ticket[];
  /** Asked for, not answered yet. */
  asked: number;
  slotStart: number;
  thisSlot: number;
  lastSlot: number;
  /** What the latest check of these scopes left (none after a refusal). */
  remaining: Reservation['remaining'] | undefined;
  /** A ticket was refused: none asked for until then. */
  refusedUntil: number;
}

const usedUp = (budget: NonNullable<AdmissionScope['budget']>, used: number) =>
  used > budget.limitNanos || (budget.blockAtLimit && used >= budget.limitNanos);

interface LocalCounter {
  spent: number | undefined;
  period: number;
  /** In flight: request id → amount reserved and when it lapses. */
  held: Map<string, { amount: number; lapsesAt: number }>;
  /** Calls whose reservation lapsed before they settled: request id → when. */
  lapsed: Map<string, number>;
  /** Admission times in the window. */
  requests: number[];
  /** Tokens settled in the window, with when. */
  tokens: { at: number; count: number }[];
  usedAt: number;
  keepUntil: number;
}

/** The counters of one process: for a gateway without Redis, and while Redis is away. */
export class InProcessAdmissionLedger implements AdmissionLedger {
  readonly #counters = new Map<string, LocalCounter>();
  #nextSweep = 0;

  constructor(private readonly timings: LedgerTimings = DEFAULT_TIMINGS) {}

  #counter(id: string, now: number): LocalCounter {
    let counter = this.#counters.get(id);
    if (!counter) {
      counter = {
        spent: undefined,
        period: -1,
        held: new Map(),
        lapsed: new Map(),
        requests: [],
        tokens: [],
        usedAt: now,
        keepUntil: 0,
      };
      this.#counters.set(id, counter);
    }
    counter.usedAt = now;
    for (const [rid, held] of counter.held) {
      if (held.lapsesAt > now) continue;
      counter.held.delete(rid);
      counter.lapsed.set(rid, now);
    }
    for (const [rid, at] of counter.lapsed) if (at <= now - IDLE_TTL_MS) counter.lapsed.delete(rid);
    const since = now - this.timings.windowMs;
    while (counter.requests.length > 0 && counter.requests[0]! <= since) counter.requests.shift();
    while (counter.tokens.length > 0 && counter.tokens[0]!.at <= since) counter.tokens.shift();
    return counter;
  }

  /** Drops counters idle for a day with nothing in flight (looked for at most once a minute). */
  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 60_000;
    for (const [id, counter] of this.#counters) {
      const idle = counter.usedAt <= now - IDLE_TTL_MS && counter.keepUntil <= now;
      const inFlight = [...counter.held.values()].some((held) => held.lapsesAt > now);
      if (idle && !inFlight) this.#counters.delete(id);
    }
  }

  /** How many scopes this process keeps counters for. */
  get size(): number {
    return this.#counters.size;
  }

  async admit(requestId: string, scopes: AdmissionScope[], amountNanos: number): Promise<AdmitResult> {
    const now = Date.now();
    this.#sweep(now);
    const counters = scopes.map((scope) => this.#counter(scope.id, now));
    const { windowMs } = this.timings;
    const remaining: Reservation['remaining'] = [];
    for (const [i, scope] of scopes.entries()) {
      const counter = counters[i]!;
      const { rpm, tpm, parallel } = scope.limits ?? {};
      if (parallel !== undefined && counter.held.size >= parallel)
        return { ok: false, scope, reason: 'max_parallel_requests', limit: parallel, retryAfterMs: 1_000 };
      if (rpm !== undefined && counter.requests.length >= rpm) {
        const retryAfterMs = (counter.requests[0] ?? now) + windowMs - now;
        return { ok: false, scope, reason: 'requests', limit: rpm, retryAfterMs };
      }
      const tokens = counter.tokens.reduce((sum, t) => sum + t.count, 0);
      if (tpm !== undefined && tokens >= tpm) {
        const retryAfterMs = (counter.tokens[0]?.at ?? now) + windowMs - now;
        return { ok: false, scope, reason: 'tokens', limit: tpm, retryAfterMs };
      }
      if (scope.budget) {
        const period = scope.budget.periodMs ?? 0;
        if (period > counter.period) {
          // A new period: the database's spend for it starts the counter.
          counter.spent = scope.budget.seedNanos;
          counter.period = period;
        }
        counter.spent ??= scope.budget.seedNanos;
        counter.keepUntil = Math.max(counter.keepUntil, scope.budget.keepUntilMs ?? 0);
        let used = counter.spent;
        for (const held of counter.held.values()) used += held.amount;
        if (amountNanos > 0 && usedUp(scope.budget, used))
          return { ok: false, scope, reason: 'budget', spentNanos: counter.spent };
      }
      remaining.push({
        ...(rpm !== undefined ? { requests: rpm - counter.requests.length - 1 } : {}),
        ...(tpm !== undefined ? { tokens: tpm - tokens } : {}),
        ...(counter.spent !== undefined ? { spentNanos: counter.spent } : {}),
      });
    }
    for (const [i, scope] of scopes.entries()) {
      const counter = counters[i]!;
      const amount = scope.budget ? amountNanos : 0;
      counter.held.set(requestId, { amount, lapsesAt: now + this.timings.reservationTtlMs });
      if (scope.limits?.rpm !== undefined) counter.requests.push(now);
    }
    return { ok: true, reservation: reservationOf(requestId, scopes, amountNanos, remaining, this) };
  }

  async settle(
    reservation: Reservation,
    actualNanos: number,
    tokens: number,
  ): Promise<(number | undefined)[]> {
    const now = Date.now();
    return reservation.scopeIds.map((id) => {
      const counter = this.#counters.get(id);
      if (!counter) return undefined;
      // Settled once: a second settlement of the same call finds it neither held nor lapsed.
      const open = counter.held.delete(reservation.requestId) || counter.lapsed.delete(reservation.requestId);
      if (!open) return counter.spent;
      if (counter.spent !== undefined) counter.spent += actualNanos;
      if (reservation.tokenScopeIds.includes(id) && tokens > 0)
        counter.tokens.push({ at: now, count: tokens });
      return counter.spent;
    });
  }

  async forget(scopeIds: string[]): Promise<void> {
    for (const id of scopeIds) {
      const counter = this.#counters.get(id);
      if (counter) counter.spent = undefined;
    }
  }

  /** Drops every budget's spend: the next check starts again from the database's. */
  forgetAllSpend(): void {
    for (const counter of this.#counters.values()) counter.spent = undefined;
  }
}

/** A check's reply from the admission script, for one call. */
function admitResultOf(
  reply: (string | number)[],
  requestId: string,
  scopes: AdmissionScope[],
  amountNanos: number,
  ledger: AdmissionLedger,
): AdmitResult {
  const [index, reason, detail, retryMs] = reply;
  if (index === 0) {
    const remaining = scopes.map((_, i) => {
      const [requests = -1, tokens = -1, spentNanos = -1] = [1, 2, 3].map((j) => Number(reply[3 * i + j]));
      return {
        ...(requests >= 0 ? { requests } : {}),
        ...(tokens >= 0 ? { tokens } : {}),
        ...(spentNanos >= 0 ? { spentNanos } : {}),
      };
    });
    return { ok: true, reservation: reservationOf(requestId, scopes, amountNanos, remaining, ledger) };
  }
  const scope = scopes[Number(index) - 1]!;
  if (reason === 'budget') return { ok: false, scope, reason, spentNanos: Number(detail) };
  return {
    ok: false,
    scope,
    reason: reason as LimitKind,
    limit: Number(detail),
    retryAfterMs: Number(retryMs),
  };
}

/**
 * Whether calls may be admitted ahead for these scopes, `count` of them reserving `amount`
 * each: only far from every limit, judged by what the latest check left (each ticket is still
 * checked in full by Redis). Parallel limits must allow TICKET_HEADROOM times the tickets (a
 * ticket holds a slot until used), rpm and tpm windows must be less than half used, and a
 * budget must keep TICKET_HEADROOM times the tickets' reservations free. Near a limit every
 * call is checked on its own, as without tickets.
 */
function roomForTickets(
  scopes: AdmissionScope[],
  remaining: Reservation['remaining'],
  count: number,
  amount: number,
): boolean {
  return scopes.every((scope, i) => {
    const left = remaining[i] ?? {};
    const { rpm, tpm, parallel } = scope.limits ?? {};
    if (parallel !== undefined && parallel < TICKET_HEADROOM * count) return false;
    if (rpm !== undefined && (left.requests ?? 0) < Math.max(rpm / 2, TICKET_HEADROOM * count)) return false;
    if (tpm !== undefined && (left.tokens ?? 0) < tpm / 2) return false;
    if (scope.budget && amount > 0) {
      const spent = left.spentNanos ?? scope.budget.limitNanos;
      if (scope.budget.limitNanos - spent < TICKET_HEADROOM * count * amount) return false;
    }
    return true;
  });
}

/** The settlement that releases a call at no cost. */
function releaseOf(keys: string[], requestId: string, scopes: number, unused: boolean): ScriptCall {
  return { keys, args: [scopes, requestId, 0, 0, unused ? 1 : 0, ...Array<number>(scopes).fill(0)] };
}

function reservationOf(
  requestId: string,
  scopes: AdmissionScope[],
  amountNanos: number,
  remaining: Reservation['remaining'],
  ledger: AdmissionLedger,
  ahead = false,
): Reservation {
  return {
    requestId,
    scopeIds: scopes.map((s) => s.id),
    owners: scopes.map((s) => s.owner),
    tokenScopeIds: scopes.filter((s) => s.limits?.tpm !== undefined).map((s) => s.id),
    amountNanos,
    remaining,
    softNanos: scopes.map((s) => s.budget?.softNanos),
    ledger,
    ...(ahead ? { ahead } : {}),
  };
}

/**
 * The Lua scripts, in `lua/` beside this file (copied beside the bundle by the production
 * build). Time in them is Redis's own (TIME, in ms): instances with skewed clocks share one
 * window. `now.lua` and `keep.lua` open the admission and settlement scripts.
 */
function luaScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}
const PRELUDE = luaScript('now') + luaScript('keep');
const ADMIT_SCRIPT = PRELUDE + luaScript('admit');
const SETTLE_SCRIPT = PRELUDE + luaScript('settle');
const ADD_SPEND_SCRIPT = luaScript('add-spend');

type LedgerCommands = {
  gatewayAddSpend(numKeys: number, ...args: (string | number)[]): Promise<number>;
  gatewayAdmit(numKeys: number, ...args: (string | number)[]): Promise<(string | number)[][]>;
  gatewaySettle(numKeys: number, ...args: (string | number)[]): Promise<number[][]>;
};

/**
 * One call's part of a batched script call: its keys, and its section of the arguments
 * (starting with its scope count and request id). A settlement Redis did not confirm is sent
 * again as it was (it counts once however often it arrives).
 */
interface ScriptCall {
  keys: string[];
  args: (string | number)[];
}

/** Most calls checked or settled in one script call (a script blocks Redis while it runs). */
const MAX_CALLS_PER_SCRIPT = 100;

/**
 * Settlements of calls admitted ahead are gathered this long after the first of them before
 * they go to Redis (a check sent meanwhile takes them along first): at a few hundred calls a
 * second, a round trip per ended call cost Redis more than the scripts' work. Only those: a
 * ticket is issued far from every limit, where holding a slot, a reservation or uncounted
 * tokens 10 ms longer changes no answer; near a limit a call's slot must be free for the
 * next call on any instance as soon as it ended, so other settlements go at the end of the turn.
 */
const SETTLE_GATHER_MS = 10;

/**
 * Budget and limit counters shared by every instance in Redis: a Lua script checks the calls
 * that arrive in one turn of the event loop, another settles those that ended together (one
 * round trip each; see SETTLE_GATHER_MS for calls admitted ahead). All keys share one hash slot (`{budget}`), so
 * a script may touch several scopes on a Redis Cluster too. When Redis does not answer, the
 * call is checked against this process's own counters instead (never waiting on Redis), and
 * settled where it was admitted; what Redis missed meanwhile (spend settled locally,
 * settlements it did not confirm) is sent to it once it answers again.
 */
export class RedisAdmissionLedger implements AdmissionLedger {
  readonly #redis: Redis & LedgerCommands;
  /** Spend settled on this process's counters while Redis was away, per scope, to hand back. */
  #localSpend = new Map<string, number>();
  /** The hand-back sent but not confirmed, with its marker, to send again as it was. */
  #handBack: { marker: string; entries: [string, number][] } | undefined;
  /** Settlements with a cost or tokens, and releases of checks whose reply was lost. */
  readonly #pending: ScriptCall[] = [];
  readonly #releases: ScriptCall[] = [];
  #catchingUp: Promise<void> | undefined;
  /** Checks of this event-loop turn, sent in one script call. */
  readonly #admissions = new TurnBatch<ScriptCall, (string | number)[]>(MAX_CALLS_PER_SCRIPT, (calls) => {
    // Calls that ended go first, on the same connection: their slots and costs count in this check.
    this.#flushSettlements();
    const keys = calls.flatMap((c) => c.keys);
    return this.#redis.gatewayAdmit(
      keys.length,
      ...keys,
      this.timings.reservationTtlMs,
      IDLE_TTL_MS,
      this.timings.windowMs,
      ...calls.flatMap((c) => c.args),
    );
  });
  /** Settlements of this event-loop turn, sent in one script call. */
  readonly #settlements = new TurnBatch<ScriptCall, number[]>(MAX_CALLS_PER_SCRIPT, (calls) =>
    this.#settleOnRedis(calls),
  );
  /** Settlements of calls admitted ahead (see SETTLE_GATHER_MS). */
  readonly #gathered = new TurnBatch<ScriptCall, number[]>(
    MAX_CALLS_PER_SCRIPT,
    (calls) => this.#settleOnRedis(calls),
    SETTLE_GATHER_MS,
  );
  /** Calls were checked on this process's counters since Redis last answered. */
  #onFallback = false;
  /** Whether calls are admitted ahead (see TICKET_LIFE_MS). */
  readonly #ahead: boolean;
  /** Calls admitted ahead, by scopes (with their budgets and limits). */
  readonly #stocks = new Map<string, TicketStock>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #instance = randomUUID();
  #ticketsIssued = 0;
  readonly #outage: RedisOutage | undefined;

  /** A Redis failure that fell back: counted in the outage, else logged. */
  #fellBack(operation: string, error: unknown, message: string, fields: Record<string, unknown> = {}): void {
    if (this.#outage) this.#outage.failed(operation, error);
    else this.logger.warn({ err: error, ...fields }, message);
  }

  constructor(
    redis: Redis,
    private readonly fallback: InProcessAdmissionLedger,
    private readonly logger: Logger,
    private readonly timings: LedgerTimings = DEFAULT_TIMINGS,
    options: { admitAhead?: boolean; outage?: RedisOutage } = {},
  ) {
    this.#ahead = options.admitAhead ?? false;
    this.#outage = options.outage;
    redis.defineCommand('gatewayAdmit', { lua: ADMIT_SCRIPT });
    redis.defineCommand('gatewaySettle', { lua: SETTLE_SCRIPT });
    redis.defineCommand('gatewayAddSpend', { lua: ADD_SPEND_SCRIPT });
    redis.on('ready', () => this.#catchUp());
    this.#redis = redis as Redis & LedgerCommands;
  }

  /** Spend and settlements Redis has not confirmed yet. */
  get behind(): number {
    return this.#localSpend.size + (this.#handBack ? 1 : 0) + this.#pending.length + this.#releases.length;
  }

  /** Resolves once what Redis missed has been sent (or sending failed). */
  async caughtUp(): Promise<void> {
    this.#catchUp();
    await this.#catchingUp;
  }

  async admit(requestId: string, scopes: AdmissionScope[], amountNanos: number): Promise<AdmitResult> {
    const keys = scopes.flatMap((s) => keysOf(s.id));
    const args = scopes.flatMap((s) => [
      s.budget ? 1 : 0,
      s.budget?.limitNanos ?? 0,
      s.budget?.seedNanos ?? 0,
      s.budget?.periodMs ?? 0,
      s.budget?.blockAtLimit ? 1 : 0,
      s.budget?.keepUntilMs ?? 0,
      s.limits?.rpm ?? -1,
      s.limits?.tpm ?? -1,
      s.limits?.parallel ?? -1,
    ]);
    const now = Date.now();
    const stock = this.#ahead ? this.#stockOf(scopes, keys, args, now) : undefined;
    const ticket = stock && this.#take(stock, amountNanos, now);
    if (stock && ticket) {
      this.#restock(stock, amountNanos, now);
      return {
        ok: true,
        reservation: reservationOf(ticket.id, scopes, ticket.amountNanos, ticket.remaining, this, true),
      };
    }
    const checked = this.#admissions.add({ keys, args: [scopes.length, requestId, amountNanos, ...args] });
    // Tickets asked for now ride in the same script call, after this call's own check.
    if (stock) this.#restock(stock, amountNanos, now);
    let reply: (string | number)[];
    try {
      reply = await checked;
    } catch (error) {
      this.#fellBack(
        'admission',
        error,
        'budget and limit check on Redis failed; using this instance’s counters',
      );
      this.#onFallback = true;
      // No tickets while Redis does not answer: calls are checked here until it does.
      if (stock) stock.remaining = undefined;
      const local = await this.fallback.admit(requestId, scopes, amountNanos);
      if (local.ok) local.reservation = { ...local.reservation, ledger: this, local: true };
      // The check may have run in Redis after all (only its reply was lost): what it holds
      // there is released (a call admitted here is released when it settles).
      else this.#release(keys, requestId, scopes.length);
      return local;
    }
    if (this.#onFallback) {
      // Back on Redis: this process's budget counters stop here, and start again from the
      // database at the next outage (not from what they last knew, long stale by then).
      this.#onFallback = false;
      this.fallback.forgetAllSpend();
    }
    this.#catchUp();
    const result = admitResultOf(reply, requestId, scopes, amountNanos, this);
    if (stock) stock.remaining = result.ok ? result.reservation.remaining : undefined;
    return result;
  }

  /** The stock of calls admitted ahead for these scopes with these budgets and limits. */
  #stockOf(scopes: AdmissionScope[], keys: string[], args: (string | number)[], now: number): TicketStock {
    const signature = `${keys.join(' ')}|${args.join(',')}`;
    let stock = this.#stocks.get(signature);
    if (!stock) {
      stock = {
        signature,
        scopes,
        keys,
        args,
        tickets: [],
        asked: 0,
        slotStart: now,
        thisSlot: 0,
        lastSlot: 0,
        remaining: undefined,
        refusedUntil: 0,
      };
      this.#stocks.set(signature, stock);
      this.#sweeper ??= setInterval(() => this.#sweep(Date.now()), TICKET_LIFE_MS).unref();
    }
    // Calls per rate slot: this one's, and the last one's.
    if (now - stock.slotStart >= RATE_SLOT_MS) {
      stock.lastSlot = now - stock.slotStart < 2 * RATE_SLOT_MS ? stock.thisSlot : 0;
      stock.thisSlot = 0;
      stock.slotStart = now;
    }
    stock.thisSlot += 1;
    return stock;
  }

  /** A ticket for a call of at most `amountNanos`, if the stock has one still fresh. */
  #take(stock: TicketStock, amountNanos: number, now: number): Ticket | undefined {
    this.#expire(stock, now);
    const ticket = stock.tickets[0];
    if (!ticket || ticket.amountNanos < amountNanos) return undefined;
    stock.tickets.shift();
    return ticket;
  }

  /**
   * Asks for more tickets, in the script call of this turn, while these scopes are called often
   * (two calls in a rate slot or more), the stock is down to half of a slot's calls, and every
   * scope is far from its limits (see roomForTickets).
   */
  #restock(stock: TicketStock, amountNanos: number, now: number): void {
    const wanted = Math.min(MAX_TICKETS, Math.max(stock.thisSlot, stock.lastSlot));
    const have = stock.tickets.length + stock.asked;
    if (wanted < 2 || have > wanted / 2 || now < stock.refusedUntil || !stock.remaining) return;
    // Room for calls a little larger than this one.
    const amount = amountNanos * 2;
    if (!roomForTickets(stock.scopes, stock.remaining, wanted, amount)) return;
    const n = stock.scopes.length;
    for (let i = have; i < wanted; i += 1) {
      this.#ticketsIssued += 1;
      const id = `ahead:${this.#instance}:${this.#ticketsIssued}`;
      stock.asked += 1;
      this.#admissions.add({ keys: stock.keys, args: [n, id, amount, ...stock.args] }).then(
        (reply) => {
          stock.asked -= 1;
          const result = admitResultOf(reply, id, stock.scopes, amount, this);
          if (!result.ok) {
            stock.refusedUntil = Date.now() + TICKET_LIFE_MS;
            return;
          }
          stock.remaining = result.reservation.remaining;
          const ticket = { id, amountNanos: amount, issuedAt: now, remaining: result.reservation.remaining };
          // The scopes were forgotten meanwhile: hand it back.
          if (this.#stocks.get(stock.signature) !== stock) void this.#giveBack(stock, [ticket]);
          else stock.tickets.push(ticket);
        },
        () => {
          stock.asked -= 1;
          stock.remaining = undefined;
          // It may have been admitted in Redis all the same (only its reply was lost).
          this.#release(stock.keys, id, n, true);
        },
      );
    }
  }

  /** Hands back the tickets of a stock that are too old to use. */
  #expire(stock: TicketStock, now: number): void {
    let stale = 0;
    while (stale < stock.tickets.length && stock.tickets[stale]!.issuedAt <= now - TICKET_LIFE_MS) stale += 1;
    if (stale > 0) void this.#giveBack(stock, stock.tickets.splice(0, stale));
  }

  /** Settles tickets as calls that never came: reservation, slot and request all removed. */
  #giveBack(stock: TicketStock, tickets: Ticket[]): Promise<unknown> {
    const n = stock.scopes.length;
    return Promise.all(
      tickets.map((ticket) => {
        const release = releaseOf(stock.keys, ticket.id, n, true);
        // Sent again once Redis answers (it lapses there by itself meanwhile).
        return this.#settlements.add(release).catch(() => this.#queueRelease(release));
      }),
    );
  }

  /** Hands back stale tickets and drops stocks nobody uses any more. */
  #sweep(now: number): void {
    for (const stock of this.#stocks.values()) {
      this.#expire(stock, now);
      const idle = now - stock.slotStart >= 2 * RATE_SLOT_MS;
      if (idle && stock.tickets.length === 0 && stock.asked === 0) this.#stocks.delete(stock.signature);
    }
    if (this.#stocks.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Tickets held now (calls admitted ahead, not yet used or handed back). */
  get ticketsHeld(): number {
    let held = 0;
    for (const stock of this.#stocks.values()) held += stock.tickets.length;
    return held;
  }

  /**
   * Hands back every ticket (at shutdown, once no call arrives any more) and waits until Redis
   * has them, or until its settlements failed (they then lapse in Redis by themselves).
   */
  async handBackTickets(): Promise<void> {
    const stocks = [...this.#stocks.values()];
    this.#stocks.clear();
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const givenBack = Promise.all(stocks.map((stock) => this.#giveBack(stock, stock.tickets.splice(0))));
    this.#flushSettlements();
    await givenBack;
    await this.caughtUp();
  }

  /** Sends Redis what it missed, unless that is under way, Redis is away, or there is nothing. */
  #catchUp(): void {
    if (this.behind === 0 || this.#catchingUp || this.#redis.status !== 'ready') return;
    this.#catchingUp = this.#sendWhatRedisMissed().then(
      () => {
        this.#catchingUp = undefined;
        // What arrived meanwhile goes too.
        this.#catchUp();
      },
      (error: unknown) => {
        this.#catchingUp = undefined;
        this.#fellBack('catch up', error, 'budget counters: catching up on Redis failed; trying again later');
      },
    );
  }

  /**
   * The spend settled on this process's counters while Redis was away is added to the shared
   * ones (so no budget forgets what was spent during an outage), and settlements Redis did not
   * confirm are sent again. Each step is idempotent, so a lost reply is simply sent again.
   */
  async #sendWhatRedisMissed(): Promise<void> {
    // One hand-back at a time: spend settled meanwhile waits for the next one.
    while (this.#handBack || this.#localSpend.size > 0) {
      if (!this.#handBack) {
        this.#handBack = {
          marker: `budget:{budget}:handback:${randomUUID()}`,
          entries: [...this.#localSpend],
        };
        this.#localSpend = new Map();
      }
      const { marker, entries } = this.#handBack;
      await this.#redis.gatewayAddSpend(
        entries.length + 1,
        marker,
        ...entries.map(([id]) => keysOf(id)[0]),
        IDLE_TTL_MS,
        ...entries.map(([, nanos]) => nanos),
      );
      this.#handBack = undefined;
    }
    for (const queue of [this.#pending, this.#releases]) {
      while (queue.length > 0) {
        await this.#settleOnRedis([queue[0]!]);
        queue.shift();
      }
    }
  }

  #sendLater(settlement: ScriptCall): void {
    if (this.#pending.length >= MAX_PENDING_SETTLEMENTS) {
      // Its reservation lapses in Redis by itself, but its spend is missing from the counter
      // until the counter is next started from the database (a day idle, or an admin change).
      this.#pending.shift();
      this.logger.error('budget counters: too many settlements waiting for Redis; dropped the oldest');
    }
    this.#pending.push(settlement);
  }

  /**
   * Releases at no cost whatever a check whose reply was lost may hold in Redis (`unused`: a
   * call admitted ahead that never came, whose request leaves the window too).
   */
  #release(keys: string[], requestId: string, scopes: number, unused = false): void {
    this.#queueRelease(releaseOf(keys, requestId, scopes, unused));
  }

  /** Sends every settlement waiting, gathered or not. */
  #flushSettlements(): void {
    this.#settlements.flush();
    this.#gathered.flush();
  }

  /** Keeps a release to send once Redis answers, dropping the oldest past the cap. */
  #queueRelease(release: ScriptCall): void {
    if (this.#releases.length >= MAX_PENDING_RELEASES) this.#releases.shift();
    this.#releases.push(release);
  }

  #settleOnRedis(settlements: ScriptCall[]): Promise<number[][]> {
    const keys = settlements.flatMap((s) => s.keys);
    return this.#redis.gatewaySettle(
      keys.length,
      ...keys,
      IDLE_TTL_MS,
      ...settlements.flatMap((s) => s.args),
    );
  }

  async settle(
    reservation: Reservation,
    actualNanos: number,
    tokens: number,
  ): Promise<(number | undefined)[]> {
    const keys = reservation.scopeIds.flatMap(keysOf);
    const counts = reservation.scopeIds.map((id) => (reservation.tokenScopeIds.includes(id) ? 1 : 0));
    if (reservation.local) {
      const after = await this.fallback.settle(reservation, actualNanos, tokens);
      if (actualNanos > 0)
        for (const id of reservation.scopeIds)
          this.#localSpend.set(id, (this.#localSpend.get(id) ?? 0) + actualNanos);
      // The check may have run in Redis after all (only its reply was lost): what it holds
      // there is released at no cost (the cost goes with the rest of the local spend).
      this.#release(keys, reservation.requestId, reservation.scopeIds.length);
      this.#catchUp();
      return after;
    }
    const args = [counts.length, reservation.requestId, actualNanos, tokens, 0, ...counts];
    try {
      const batch = reservation.ahead ? this.#gathered : this.#settlements;
      const after = await batch.add({ keys, args });
      return reservation.scopeIds.map((_, i) => (Number(after[i]) >= 0 ? Number(after[i]) : undefined));
    } catch (error) {
      this.#fellBack('settle', error, 'budget settle on Redis failed; it is sent again when Redis answers');
      this.#sendLater({ keys, args });
      return reservation.scopeIds.map(() => undefined);
    }
  }

  async forget(scopeIds: string[]): Promise<void> {
    await this.fallback.forget(scopeIds);
    // Tickets carry what the scopes had left when they were issued: no longer true.
    for (const stock of this.#stocks.values()) {
      if (!stock.scopes.some((scope) => scopeIds.includes(scope.id))) continue;
      this.#stocks.delete(stock.signature);
      void this.#giveBack(stock, stock.tickets.splice(0));
    }
    try {
      for (const id of scopeIds) await this.#redis.hdel(keysOf(id)[0], 'spent');
    } catch (error) {
      // The change is made in the database already; the counters follow it within a day idle.
      this.#fellBack('forget', error, 'budget counters: could not drop them on Redis', { scopeIds });
    }
  }
}

function keysOf(id: string): [string, string, string, string, string] {
  const base = `budget:{budget}:${id}`;
  return [base, `${base}:held`, `${base}:requests`, `${base}:tokens`, `${base}:lapsed`];
}

/** USD decimal string → integer nano-dollars, rounded up (a budget never under-counts). */
export function toNanos(usd: string | number): number {
  const text = typeof usd === 'number' ? usd.toFixed(12) : usd;
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  let nanos = Number(whole) * 1e9 + Number(fraction.padEnd(9, '0').slice(0, 9));
  if (/[1-9]/.test(fraction.slice(9))) nanos += 1;
  return negative ? -nanos : nanos;
}

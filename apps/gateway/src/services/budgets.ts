import type { PriceResult } from '@gateway/pricing';
import type { Caller } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { type BudgetLedger, type BudgetScope, type Reservation, toNanos } from './budget-ledger.ts';
import type { CustomerRecord, TeamRecord } from './lookups.ts';

/** What a call may use at most: its prompt (estimated) and its output cap. */
export interface CallEstimate {
  inputTokens: number;
  outputTokens: number;
}

/**
 * The output a call is assumed to produce when it sets no `max_tokens`, for its budget
 * reservation only (the call is settled at its real cost).
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

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

function refusal(scope: BudgetScope, spentNanos: number): GatewayHttpError {
  const [kind, ...rest] = scope.id.split(':');
  const id = rest.join(':');
  const spent = pythonFloat(spentNanos);
  const limit = pythonFloat(scope.limitNanos);
  const message =
    kind === 'team'
      ? `Budget has been exceeded! Team=${id} Current cost: ${spent}, Max budget: ${limit}`
      : kind === 'customer'
        ? `ExceededBudget: End User=${id} over budget. Spend=${spent}, Budget=${limit}`
        : `Budget has been exceeded! Current cost: ${spent}, Max budget: ${limit}`;
  // 429, as LiteLLM's newest versions answer (older ones: 400); the type says why.
  return new GatewayHttpError({ kind: 'rate_limited', type: 'budget_exceeded', message });
}

/**
 * Reserves a call's worst-case cost against every budget that applies (the key's, its team's,
 * the end user's) before it runs, atomically across instances, and refuses it with LiteLLM's
 * budget error when one is used up. Reserving the worst case means parallel calls cannot all
 * pass a check that only one of them fits: spend can overshoot a budget by at most the cost of
 * the last call admitted. The reservation is settled at the real cost when the call ends.
 */
export async function reserveBudgets(input: {
  ledger: BudgetLedger;
  requestId: string;
  caller: Caller;
  team: TeamRecord | undefined;
  customer: CustomerRecord | undefined;
  estimate: CallEstimate;
  /** Prices usage as the call will be priced (the deployment's overrides included). */
  price: (usage: { inputTokens: number; outputTokens: number }) => PriceResult;
}): Promise<Reservation | undefined> {
  const scopes: BudgetScope[] = [];
  const { caller, team, customer } = input;
  if (caller.kind === 'virtual' && caller.key.maxBudget !== null) {
    scopes.push({
      id: `key:${caller.key.tokenHash}`,
      limitNanos: toNanos(caller.key.maxBudget),
      seedNanos: toNanos(caller.key.spend),
      blockAtLimit: true,
    });
  }
  if (caller.kind === 'virtual' && team?.maxBudget != null) {
    scopes.push({
      id: `team:${team.teamId}`,
      limitNanos: toNanos(team.maxBudget),
      seedNanos: toNanos(team.spend),
      blockAtLimit: false,
    });
  }
  if (customer?.maxBudget != null) {
    scopes.push({
      id: `customer:${customer.userId}`,
      limitNanos: toNanos(customer.maxBudget),
      seedNanos: toNanos(customer.spend),
      blockAtLimit: false,
    });
  }
  if (scopes.length === 0) return undefined;
  const worst = input.price(input.estimate);
  // A call that cannot cost anything (a free or unpriced model) is never refused.
  const amount = worst.priced ? toNanos(worst.costUsd) : 0;
  const result = await input.ledger.reserve(input.requestId, scopes, amount);
  if (!result.ok) throw refusal(result.scope, result.spentNanos);
  return result.reservation;
}

/** Settles a call's reservation at what it cost (nothing when it could not be priced). */
export function settleBudgets(reservation: Reservation | undefined, costUsd: string | undefined): void {
  if (!reservation) return;
  void reservation.ledger.settle(reservation, costUsd === undefined ? 0 : toNanos(costUsd));
}

/** Input tokens a prompt of this many characters can hardly exceed (few tokens are under three characters). */
export function inputTokensAtMost(characters: number, messages: number): number {
  return Math.ceil(characters / 3) + messages * 4;
}

import { type Database, findDueBudgets, resetBudget } from '@gateway/db';
import type { Logger } from 'pino';
import type { Lookups } from '../lookups/lookups.ts';
import { addDuration } from '../support/duration.ts';
import { PeriodicJob } from '../support/periodic-job.ts';

/** The next period's start: the old one moved by whole durations until it is in the future. */
export function nextResetAt(resetAt: Date, duration: string, now: Date): Date | undefined {
  let next = addDuration(resetAt, duration);
  while (next && next <= now) next = addDuration(next, duration);
  return next;
}

export interface BudgetResetOptions {
  db: Database;
  lookups: Lookups;
  logger: Logger;
  intervalMs: number;
}

/**
 * Resets budgets whose period ended (`budget_reset_at` passed): spend back to 0 for keys,
 * teams, users and the customers of a budget row. Every instance runs it; a compare-and-set
 * on `budget_reset_at` makes exactly one of them reset each budget. The caches of what was reset
 * are dropped; the budget counters carry the period, so the first call that sees the new
 * `budget_reset_at` starts them again from the new period's spend (and a stale cache cannot).
 * Spend rows of calls that started before the reset but were written after it count in the
 * new period (at most the spend queue's delay).
 */
export function budgetResetJob(options: BudgetResetOptions): PeriodicJob<void> {
  return new PeriodicJob(() => resetDueBudgets(options), options.intervalMs);
}

async function resetDueBudgets({ db, lookups, logger }: BudgetResetOptions): Promise<void> {
  const now = new Date();
  let due: Awaited<ReturnType<typeof findDueBudgets>>;
  try {
    due = await findDueBudgets(db, now);
  } catch (error) {
    logger.warn({ err: error }, 'budget reset: could not read due budgets');
    return;
  }
  for (const budget of due) {
    const next = nextResetAt(budget.resetAt, budget.duration, now);
    if (!next) {
      logger.warn(
        { kind: budget.kind, id: budget.id, duration: budget.duration },
        'budget reset: bad duration',
      );
      continue;
    }
    try {
      const { reset, customerIds } = await resetBudget(db, budget, next);
      if (!reset) continue;
      logger.info({ kind: budget.kind, id: budget.id, next }, 'budget period reset');
      if (budget.kind === 'key') {
        await lookups.invalidateKeys([budget.id]);
      } else if (budget.kind === 'team') {
        await lookups.teams.invalidate(budget.id);
      } else if (budget.kind === 'user') {
        await lookups.users.invalidate(budget.id);
      } else if (budget.kind === 'budget' && customerIds.length > 0) {
        await lookups.customers.invalidate(...customerIds);
      }
    } catch (error) {
      logger.warn({ err: error, kind: budget.kind, id: budget.id }, 'budget reset failed; retried next pass');
    }
  }
}

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { SoftBudgetCrossing } from '../admission/admission.ts';

/**
 * Reports a soft budget crossed: a log line, the `litellm_soft_budget_crossed_total` counter
 * (ours; LiteLLM only alerts) and, when configured, a POST to the alerting webhook in the shape
 * of LiteLLM's webhook events (`event: "soft_budget_crossed"`). Never on the request path and
 * never retried: a webhook that fails is logged.
 */
export function createSoftBudgetAlerts(options: {
  registry: Registry;
  logger: Logger;
  webhookUrl: string | undefined;
}): (crossing: SoftBudgetCrossing) => void {
  const counter = new Counter({
    name: 'litellm_soft_budget_crossed_total',
    help: 'Soft budgets crossed, by entity type (key, team, user, customer)',
    labelNames: ['entity'],
    registers: [options.registry],
  });
  return (crossing) => {
    counter.inc({ entity: crossing.entity });
    const spend = crossing.spendNanos / 1e9;
    const softBudget = crossing.softNanos / 1e9;
    options.logger.warn({ ...crossing, spend, softBudget }, 'soft budget crossed');
    if (!options.webhookUrl) return;
    const body = {
      event: 'soft_budget_crossed',
      event_group: crossing.entity,
      event_message: `${crossing.entity} ${crossing.id} crossed its soft budget: spend ${spend} >= ${softBudget}`,
      spend,
      soft_budget: softBudget,
      ...(crossing.entity === 'key' ? { token: crossing.id } : {}),
      ...(crossing.entity === 'team' ? { team_id: crossing.id } : {}),
      ...(crossing.entity === 'user' || crossing.entity === 'customer' ? { user_id: crossing.id } : {}),
    };
    fetch(options.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
      .then((response) => {
        if (!response.ok)
          options.logger.warn({ status: response.status }, 'soft budget webhook refused the alert');
      })
      .catch((error) => options.logger.warn({ err: error }, 'soft budget webhook unreachable'));
  };
}

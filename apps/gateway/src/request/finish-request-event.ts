import type { Logger } from 'pino';
import { type SoftBudgetCrossing, settleCall } from '../admission/admission.ts';
import { redactKeys } from '../lookups/virtual-key.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { SpendQueue } from '../spend/spend-writer.ts';
import { type RequestEvent, toSpendRow } from './request-event.ts';

export type FinishRequestEvent = (event: RequestEvent, status: number) => void;

/**
 * Builds the function that closes a request's wide event: stamps its end, logs it once and
 * queues its spend row. Calling it twice for one event does nothing the second time.
 */
export function createFinishRequestEvent(
  logger: Logger,
  spendQueue: Pick<SpendQueue, 'enqueue'>,
  onSoftBudgetCrossed: (crossing: SoftBudgetCrossing) => void = () => {},
  metrics?: Pick<GatewayMetrics, 'record'>,
  lifecycle?: { open: number },
): FinishRequestEvent {
  const finished = new WeakSet<RequestEvent>();
  return function finishRequestEvent(event, status) {
    if (finished.has(event)) return;
    finished.add(event);
    if (lifecycle) lifecycle.open--;
    event.endedAt ??= new Date();
    event.status = status;
    event.outcome ??= status < 400 ? 'success' : 'failure';
    const row = toSpendRow(event);
    // The metrics count exactly what the spend log receives (and stamp the row with this process).
    try {
      metrics?.record(event, status, row);
    } catch (error) {
      logger.warn({ err: error, requestId: event.requestId }, 'metrics: could not record the request');
    }
    if (row) spendQueue.enqueue(row);
    const call = event.call;
    const price = call?.price;
    settleCall(
      event.reservation,
      price?.priced ? price.costUsd : undefined,
      (call?.usage.inputTokens ?? 0) + (call?.usage.outputTokens ?? 0),
      onSoftBudgetCrossed,
    ).catch((error: unknown) =>
      logger.warn({ err: error, requestId: event.requestId }, 'budget settle failed'),
    );
    const fields = {
      requestId: event.requestId,
      method: event.method,
      path: redactKeys(event.path),
      status,
      outcome: event.outcome,
      durationMs: event.endedAt.getTime() - event.startedAt.getTime(),
      keyHash: event.keyHash,
      keyAlias: event.keyAlias ?? undefined,
      teamId: event.teamId ?? undefined,
      userId: event.userId ?? undefined,
      ...(call
        ? {
            modelGroup: call.modelGroup,
            provider: call.provider,
            model: call.responseModel ?? call.upstreamModel,
            stream: call.stream,
            endUser: call.endUser,
            tags: call.tags.length > 0 ? call.tags : undefined,
            inputTokens: call.usage.inputTokens,
            outputTokens: call.usage.outputTokens,
            cacheReadTokens: call.usage.cacheReadTokens,
            cacheWriteTokens: call.usage.cacheWriteTokens,
            timeToFirstTokenMs: call.firstTokenAt
              ? call.firstTokenAt.getTime() - event.startedAt.getTime()
              : undefined,
            costUsd: price?.priced ? price.costUsd : undefined,
            unpriced: price && !price.priced ? price.reason : undefined,
          }
        : {}),
      ...(event.error ? { errorKind: event.error.kind, errorMessage: redactKeys(event.error.message) } : {}),
    };
    if (status >= 500) logger.error(fields, 'request');
    else logger.info(fields, 'request');
  };
}

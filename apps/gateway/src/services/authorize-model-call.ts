import type { Caller } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import type { Lookups } from './lookups.ts';
import { refuseModel } from './model-access.ts';

async function fromCache<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw new GatewayHttpError({
      kind: 'service_unavailable',
      type: 'no_db_connection',
      message:
        'Service Unavailable, the authentication database is temporarily unreachable. Please retry shortly.',
    });
  }
}

/**
 * The checks of a model route after the key itself was verified, in the contract's order
 * (§1.5): the model is allowed for the key and its team, the team is not blocked, the end
 * user is not blocked. Reads only cached lookups. Throws the refusal.
 */
export async function authorizeModelCall(
  lookups: Lookups,
  caller: Caller,
  /** The public model name; undefined when the route names no model. */
  modelName: string | undefined,
  endUser: string | undefined,
  /** Another name the model may be listed under (the bare upstream id on the pass-through). */
  alsoKnownAs?: string,
): Promise<void> {
  if (caller.kind === 'virtual') {
    const key = caller.key;
    const team = key.teamId ? await fromCache(() => lookups.teams.get(key.teamId!)) : undefined;
    const refusal = modelName === undefined ? undefined : refuseModel(key, team, modelName);
    if (refusal && (alsoKnownAs === undefined || refuseModel(key, team, alsoKnownAs))) {
      throw new GatewayHttpError(refusal);
    }
    if (team?.blocked) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: `Authentication Error, Team=${team.teamId} is blocked. Update via \`/team/unblock\` if you're an admin.`,
      });
    }
  }
  if (endUser) {
    const customer = await fromCache(() => lookups.customers.get(endUser));
    if (customer?.blocked) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'user',
        message: `User blocked from making LLM API Calls. User=${endUser}`,
      });
    }
  }
}

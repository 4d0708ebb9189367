import type { Caller } from '../app-env.ts';
import { authDatabaseUnavailable, GatewayHttpError } from '../errors.ts';
import type { CustomerRecord, Lookups, TeamRecord, UserRecord } from '../lookups/lookups.ts';
import { refuseModel } from './model-access.ts';

async function fromCache<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw new GatewayHttpError(authDatabaseUnavailable);
  }
}

/**
 * The checks of a model route after the key itself was verified, in the contract's order
 * (§1.5): the model is allowed for the key and its team, the team is not blocked, the end
 * user is not blocked. Reads only cached lookups. Returns the key's team and the end user (for tags and budgets); throws
 * the refusal. A key's team that cannot be read is a 503, an end user that cannot be read is
 * served (see below).
 */
export async function authorizeModelCall(
  lookups: Lookups,
  caller: Caller,
  /** The public model name; undefined when the route names no model. */
  modelName: string | undefined,
  endUser: string | undefined,
  /** Another name the model may be listed under (the bare upstream id on the pass-through). */
  alsoKnownAs?: string,
): Promise<{
  team: TeamRecord | undefined;
  user: UserRecord | undefined;
  customer: CustomerRecord | undefined;
}> {
  let team: TeamRecord | undefined;
  let user: UserRecord | undefined;
  let customer: CustomerRecord | undefined;
  if (caller.kind === 'virtual') {
    const key = caller.key;
    team = key.teamId ? await fromCache(() => lookups.teams.get(key.teamId!)) : undefined;
    const refusal = modelName === undefined ? undefined : refuseModel(key, team, modelName);
    if (refusal && (alsoKnownAs === undefined || refuseModel(key, team, alsoKnownAs))) {
      throw new GatewayHttpError(refusal);
    }
    // The owner's budget and limits apply to personal keys only (a team key spends the team's), as LiteLLM.
    if (!key.teamId && key.userId) user = await fromCache(() => lookups.users.get(key.userId!));
    if (team?.blocked) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: `Authentication Error, Team=${team.teamId} is blocked. Update via \`/team/unblock\` if you're an admin.`,
      });
    }
  }
  if (endUser) {
    // End users are first seen on requests, so an outage would otherwise refuse every new one.
    // Fail open: without the database a customer not in the caches is served as unblocked
    // (a blocked one stays refused while its cache entry lives); the spend row still names it.
    customer = await lookups.customers.get(endUser).catch(() => undefined);
    if (customer?.blocked) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'user',
        message: `User blocked from making LLM API Calls. User=${endUser}`,
      });
    }
  }
  return { team, user, customer };
}

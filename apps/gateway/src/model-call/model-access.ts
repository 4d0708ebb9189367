import type { GatewayError } from '../errors.ts';
import type { KeyRecord, TeamRecord } from '../lookups/lookups.ts';

const ALL_PROXY_MODELS = 'all-proxy-models';
const ALL_TEAM_MODELS = 'all-team-models';

/** An empty list allows all; entries are names, `all-proxy-models`, or `prefix/*` wildcards. */
function listAllows(allowed: string[], modelName: string): boolean {
  return (
    allowed.length === 0 ||
    allowed.includes(modelName) ||
    allowed.includes(ALL_PROXY_MODELS) ||
    allowed.some((entry) => entry.endsWith('/*') && modelName.startsWith(entry.slice(0, -1)))
  );
}

/**
 * Whether a key (and its team) may call a public model (contract §2.0, §5.3). An empty list
 * allows every model; `all-proxy-models` likewise; `all-team-models` on a key defers to its
 * team's list. Returns the refusal, naming the rule, or undefined when allowed.
 */
export function refuseModel(
  key: KeyRecord,
  team: TeamRecord | undefined,
  modelName: string,
): GatewayError | undefined {
  const keyDefersToTeam = key.models.includes(ALL_TEAM_MODELS);
  if (!keyDefersToTeam && !listAllows(key.models, modelName)) {
    return {
      kind: 'unauthenticated',
      type: 'key_model_access_denied',
      param: 'model',
      message: `key not allowed to access model. This key can only access models=${JSON.stringify(key.models)}. Tried to access ${modelName}`,
    };
  }
  if (team && !listAllows(team.models, modelName)) {
    return {
      kind: 'unauthenticated',
      type: 'team_model_access_denied',
      param: 'model',
      message: `Team not allowed to access model. Team=${team.teamId}, Model=${modelName}. Allowed team models = ${JSON.stringify(team.models)}`,
    };
  }
  return undefined;
}

/** The public model names a key may call, in config order. */
export function allowedModelNames(
  key: KeyRecord,
  team: TeamRecord | undefined,
  modelNames: string[],
): string[] {
  return modelNames.filter((name) => refuseModel(key, team, name) === undefined);
}

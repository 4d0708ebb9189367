import type { Deployment } from '../config/gateway-config.ts';

interface Group {
  deployments: Deployment[];
  next: number;
}

/** A `model_name` with `*` matches any text in its place: `anthropic/*`, `*`. */
function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('(.*)')}$`);
}

/**
 * Public model name -> deployments. Several deployments under one name form a model group,
 * served in turn (round robin). A `model_name` containing `*` is a wildcard route, tried in
 * config order when no exact name matches: the text the `*` matched replaces the `*` of the
 * deployment's upstream model (`anthropic/*` -> `anthropic/*` forwards `anthropic/claude-x` as
 * `claude-x`).
 */
export class ModelRouter {
  readonly #groups = new Map<string, Group>();
  readonly #wildcards: { pattern: RegExp; group: Group }[] = [];
  /** `<provider>/<upstream model>` -> its first deployment (the pass-through prices by it). */
  readonly #byUpstream = new Map<string, Deployment>();

  constructor(deployments: Deployment[]) {
    for (const deployment of deployments) {
      let group = this.#groups.get(deployment.modelName);
      if (!group) {
        group = { deployments: [], next: 0 };
        this.#groups.set(deployment.modelName, group);
        if (deployment.modelName.includes('*')) {
          this.#wildcards.push({ pattern: globToRegExp(deployment.modelName), group });
        }
      }
      group.deployments.push(deployment);
      const upstream = `${deployment.provider}/${deployment.upstreamModel}`;
      if (!this.#byUpstream.has(upstream)) this.#byUpstream.set(upstream, deployment);
    }
  }

  /** The deployment to use for this public model name, or undefined when none is configured. */
  pick(modelName: string): Deployment | undefined {
    const exact = this.#groups.get(modelName);
    if (exact && !modelName.includes('*')) return this.#next(exact);
    for (const { pattern, group } of this.#wildcards) {
      const match = pattern.exec(modelName);
      if (!match) continue;
      const deployment = this.#next(group);
      const matched = match[1] ?? '';
      return {
        ...deployment,
        modelName,
        upstreamModel: deployment.upstreamModel.replace('*', matched),
      };
    }
    return undefined;
  }

  #next(group: Group): Deployment {
    const deployment = group.deployments[group.next % group.deployments.length]!;
    group.next = (group.next + 1) % group.deployments.length;
    return deployment;
  }

  /** Every public model name that is not a wildcard route, in config order. */
  modelNames(): string[] {
    return [...this.#groups.keys()].filter((name) => !name.includes('*'));
  }

  /** The first deployment of this provider and upstream model (for its prices), if any. */
  deploymentFor(provider: string, upstreamModel: string): Deployment | undefined {
    return this.#byUpstream.get(`${provider}/${upstreamModel}`);
  }

  /** Every deployment, in config order. */
  deployments(): Deployment[] {
    return [...this.#groups.values()].flatMap((group) => group.deployments);
  }
}

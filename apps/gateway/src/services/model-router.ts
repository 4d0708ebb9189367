import type { Deployment } from '../config/gateway-config.ts';

/**
 * Public model name -> deployments. Several deployments under one name form a model group,
 * served in turn (round robin).
 */
export class ModelRouter {
  readonly #groups = new Map<string, { deployments: Deployment[]; next: number }>();

  constructor(deployments: Deployment[]) {
    for (const deployment of deployments) {
      const group = this.#groups.get(deployment.modelName);
      if (group) group.deployments.push(deployment);
      else this.#groups.set(deployment.modelName, { deployments: [deployment], next: 0 });
    }
  }

  /** The deployment to use for this public model name, or undefined when none is configured. */
  pick(modelName: string): Deployment | undefined {
    const group = this.#groups.get(modelName);
    if (!group) return undefined;
    const deployment = group.deployments[group.next % group.deployments.length];
    group.next = (group.next + 1) % group.deployments.length;
    return deployment;
  }

  /** Every public model name, in config order. */
  modelNames(): string[] {
    return [...this.#groups.keys()];
  }

  /** Every deployment, in config order. */
  deployments(): Deployment[] {
    return [...this.#groups.values()].flatMap((group) => group.deployments);
  }
}

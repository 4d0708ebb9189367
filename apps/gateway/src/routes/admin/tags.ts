import { randomUUID } from 'node:crypto';
import { deleteTags, findTag, listTags, type TagWithBudget, upsertTag } from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError } from '../../errors.ts';
import type { AdminApi } from './admin-api.ts';
import { budgetFields, budgetJson, budgetJsonSchema, toBudgetPatch } from './customers.ts';

const tagFields = {
  name: z.string().min(1),
  description: z.string().nullish(),
  models: z.array(z.string()).nullish(),
  ...budgetFields,
};

const tagJsonSchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
  models: z.array(z.string()),
  spend: z.number(),
  budget_id: z.string().nullable(),
  litellm_budget_table: budgetJsonSchema.nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

function tagJson({ tag, budget }: TagWithBudget): z.output<typeof tagJsonSchema> {
  return {
    name: tag.tagName,
    description: tag.description,
    models: tag.models,
    spend: Number(tag.spend),
    budget_id: tag.budgetId,
    litellm_budget_table: budget ? (budgetJson(budget) as z.output<typeof budgetJsonSchema>) : null,
    created_at: tag.createdAt.toISOString(),
    updated_at: tag.updatedAt.toISOString(),
  };
}

function tagNotFound(name: string): GatewayHttpError {
  return new GatewayHttpError({ kind: 'not_found', param: 'name', message: `Tag ${name} not found` });
}

/**
 * Tag management (LiteLLM's `/tag/*`, not enterprise-gated here): a tag's description, models
 * and budget row (`max_budget`, `soft_budget`, rpm/tpm/parallel limits). Tags seen on requests
 * already have rows (with their spend); `/tag/new` on such a tag gives it a budget. Budget
 * periods (`budget_duration`) on tags are not supported yet and are refused.
 */
export function registerTagRoutes(api: AdminApi, deps: AppDeps): void {
  const db = deps.database.db;

  async function save(body: z.output<z.ZodObject<typeof tagFields>>) {
    if (body.budget_duration) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'budget_duration',
        message: 'budget_duration is not supported on tags yet.',
      });
    }
    const saved = await deps.lookups.change({ tags: [body.name] }, (tx) =>
      upsertTag(
        tx,
        {
          tagName: body.name,
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.models ? { models: body.models } : {}),
          createdBy: 'default_user_id',
        },
        toBudgetPatch(body, new Date()),
        randomUUID,
      ),
    );
    return tagJson(saved);
  }

  api.route(
    {
      method: 'post',
      path: '/tag/new',
      tag: 'tags',
      summary: 'Create a tag (or give a tag seen on requests a budget)',
      access: 'admin',
      body: z.object(tagFields),
      response: tagJsonSchema,
    },
    async ({ body }) => save(body),
  );

  api.route(
    {
      method: 'post',
      path: '/tag/update',
      tag: 'tags',
      summary: "Change a tag's description, models or budget",
      access: 'admin',
      body: z.object(tagFields),
      response: tagJsonSchema,
    },
    async ({ body }) => {
      if (!(await findTag(db, body.name))) throw tagNotFound(body.name);
      return save(body);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tag/info',
      tag: 'tags',
      summary: 'Tags by name, with spend and budget',
      access: 'admin',
      body: z.object({ names: z.array(z.string().min(1)).min(1) }),
      response: z.record(z.string(), tagJsonSchema),
    },
    async ({ body }) => {
      const found: Record<string, z.output<typeof tagJsonSchema>> = {};
      for (const name of body.names) {
        const tag = await findTag(db, name);
        if (!tag) throw tagNotFound(name);
        found[name] = tagJson(tag);
      }
      return found;
    },
  );

  api.route(
    {
      method: 'get',
      path: '/tag/list',
      tag: 'tags',
      summary: 'Every tag, with spend and budget',
      access: 'admin',
      response: z.array(tagJsonSchema),
    },
    async () => (await listTags(db)).map(tagJson),
  );

  api.route(
    {
      method: 'post',
      path: '/tag/delete',
      tag: 'tags',
      summary: 'Delete a tag (its spend rows keep their tags)',
      access: 'admin',
      body: z.object({ name: z.string().min(1) }),
      response: z.object({ message: z.string() }),
    },
    async ({ body }) => {
      await deps.lookups.change({ tags: [body.name] }, async (tx) => {
        const deleted = await deleteTags(tx, [body.name]);
        if (deleted.length === 0) throw tagNotFound(body.name);
      });
      await deps.admission.forget([`tag:${body.name}`]);
      return { message: `Tag ${body.name} deleted successfully` };
    },
  );
}

import { randomUUID } from 'node:crypto';
import {
  type BudgetRow,
  budgets,
  deleteEndUsers,
  type EndUserWithBudget,
  findEndUser,
  findEndUsers,
  insertEndUser,
  listEndUsers,
  type NewBudgetRow,
  rowToJson,
  setEndUsersBlocked,
  updateEndUser,
} from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError, isUniqueViolation } from '../../errors.ts';
import { addDuration } from '../../support/duration.ts';
import type { AdminApi } from './admin-api.ts';

export const budgetFields = {
  max_budget: z.number().nonnegative().nullish(),
  soft_budget: z.number().nonnegative().nullish(),
  max_parallel_requests: z.number().int().nonnegative().nullish(),
  tpm_limit: z.number().int().nonnegative().nullish(),
  rpm_limit: z.number().int().nonnegative().nullish(),
  budget_duration: z.string().nullish(),
  model_max_budget: z.record(z.string(), z.unknown()).nullish(),
};
type BudgetFields = z.output<z.ZodObject<typeof budgetFields>>;

const customerFields = {
  alias: z.string().nullish(),
  blocked: z.boolean().nullish(),
  budget_id: z.string().nullish(),
  allowed_model_region: z.enum(['eu', 'us']).nullish(),
  default_model: z.string().nullish(),
  ...budgetFields,
};

export const budgetJsonSchema = z.looseObject({
  budget_id: z.string(),
  max_budget: z.number().nullable(),
  soft_budget: z.number().nullable(),
  max_parallel_requests: z.number().nullable(),
  tpm_limit: z.number().nullable(),
  rpm_limit: z.number().nullable(),
  budget_duration: z.string().nullable(),
  budget_reset_at: z.string().nullable(),
});

export const customerJsonSchema = z.object({
  user_id: z.string(),
  alias: z.string().nullable(),
  spend: z.number(),
  allowed_model_region: z.string().nullable(),
  default_model: z.string().nullable(),
  budget_id: z.string().nullable(),
  blocked: z.boolean(),
  litellm_budget_table: budgetJsonSchema.nullable(),
});

function customerJson({ endUser, budget }: EndUserWithBudget): z.output<typeof customerJsonSchema> {
  return {
    user_id: endUser.userId,
    alias: endUser.alias,
    spend: Number(endUser.spend),
    allowed_model_region: endUser.allowedModelRegion,
    default_model: endUser.defaultModel,
    budget_id: endUser.budgetId,
    blocked: endUser.blocked,
    litellm_budget_table: budget ? (budgetJson(budget) as z.output<typeof budgetJsonSchema>) : null,
  };
}

export const budgetJson = (row: BudgetRow) => rowToJson(budgets, row);

/** The budget-row changes a request asks for, or undefined when it names no budget field. */
export function toBudgetPatch(input: BudgetFields, now: Date): Partial<NewBudgetRow> | undefined {
  const patch: Partial<NewBudgetRow> = {};
  if (input.max_budget !== undefined)
    patch.maxBudget = input.max_budget === null ? null : String(input.max_budget);
  if (input.soft_budget !== undefined)
    patch.softBudget = input.soft_budget === null ? null : String(input.soft_budget);
  if (input.max_parallel_requests !== undefined) patch.maxParallelRequests = input.max_parallel_requests;
  if (input.tpm_limit !== undefined) patch.tpmLimit = input.tpm_limit;
  if (input.rpm_limit !== undefined) patch.rpmLimit = input.rpm_limit;
  if (input.model_max_budget !== undefined) patch.modelMaxBudget = input.model_max_budget;
  if (input.budget_duration !== undefined) {
    patch.budgetDuration = input.budget_duration;
    patch.budgetResetAt = input.budget_duration ? (addDuration(now, input.budget_duration) ?? null) : null;
    if (input.budget_duration && !patch.budgetResetAt) {
      throw new GatewayHttpError({
        kind: 'validation_error',
        param: 'budget_duration',
        message: `Invalid budget_duration: ${input.budget_duration}`,
      });
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

function customerExists(id: string): GatewayHttpError {
  return new GatewayHttpError({
    kind: 'invalid_request',
    type: 'bad_request',
    param: 'user_id',
    message: `Customer already exists, passed user_id=${id}. Please pass a new user_id.`,
  });
}

function customerNotFound(id: string, param: string): GatewayHttpError {
  return new GatewayHttpError({
    kind: 'not_found',
    type: 'not_found',
    param,
    message: `End User Id=${id} does not exist in db`,
  });
}

/**
 * The customer (end-user) endpoints (contract §2.11), also served under `/end_user/...` as
 * LiteLLM does. Unlike LiteLLM, `/customer/update` honours `blocked: false` and `max_budget: 0`,
 * and `/customer/unblock` clears the flag.
 */
export function registerCustomerRoutes(api: AdminApi, deps: AppDeps): void {
  const db = deps.database.db;
  const modelNames = new Set(deps.router.modelNames());

  function checkDefaultModel(model: string | null | undefined): void {
    if (model && !modelNames.has(model)) {
      throw new GatewayHttpError({
        kind: 'validation_error',
        param: 'default_model',
        message: `Default Model not on proxy. Configure model: ${model}`,
      });
    }
  }

  for (const prefix of ['/customer', '/end_user']) {
    const tag = 'customers';
    api.route(
      {
        method: 'post',
        path: `${prefix}/new`,
        tag,
        summary: 'Create a customer (end user), with a budget row when budget fields are given',
        access: 'admin',
        body: z
          .object({
            user_id: z.string().min(1),
            spend: z.number().nonnegative().nullish(),
            ...customerFields,
          })
          .refine((b) => !(b.max_budget != null && b.budget_id != null), {
            message: "Set either 'max_budget' or 'budget_id', not both.",
          }),
        response: customerJsonSchema,
      },
      async ({ body }) => {
        checkDefaultModel(body.default_model);
        if (await findEndUser(db, body.user_id)) throw customerExists(body.user_id);
        const budget = toBudgetPatch(body, new Date());
        let created: Awaited<ReturnType<typeof insertEndUser>>;
        try {
          created = await deps.lookups.change({ customers: [body.user_id] }, (tx) =>
            insertEndUser(
              tx,
              {
                userId: body.user_id,
                alias: body.alias ?? null,
                blocked: body.blocked ?? false,
                spend: String(body.spend ?? 0),
                allowedModelRegion: body.allowed_model_region ?? null,
                defaultModel: body.default_model ?? null,
                budgetId: body.budget_id ?? null,
              },
              budget ? { ...budget, budgetId: randomUUID() } : undefined,
            ),
          );
        } catch (error) {
          // Two concurrent calls with one id: the second finds the row made by the first.
          if (isUniqueViolation(error)) throw customerExists(body.user_id);
          throw error;
        }
        await deps.admission.forget([`customer:${body.user_id}`]);
        return customerJson(created);
      },
    );

    api.route(
      {
        method: 'get',
        path: `${prefix}/info`,
        tag,
        summary: 'A customer with its budget and spend',
        access: 'admin',
        query: z.object({ end_user_id: z.string().min(1) }),
        response: customerJsonSchema,
      },
      async ({ query }) => {
        const found = await findEndUser(db, query.end_user_id);
        if (!found) throw customerNotFound(query.end_user_id, 'end_user_id');
        return customerJson(found);
      },
    );

    api.route(
      {
        method: 'post',
        path: `${prefix}/update`,
        tag,
        summary: 'Change the fields given; false and 0 are honoured (LiteLLM drops them)',
        access: 'admin',
        body: z.object({ user_id: z.string().min(1), ...customerFields }),
        response: customerJsonSchema,
      },
      async ({ body }) => {
        checkDefaultModel(body.default_model);
        const patch: Parameters<typeof updateEndUser>[2] = {};
        if (body.alias !== undefined) patch.alias = body.alias;
        if (body.blocked !== undefined) patch.blocked = body.blocked ?? false;
        if (body.budget_id !== undefined) patch.budgetId = body.budget_id;
        if (body.allowed_model_region !== undefined) patch.allowedModelRegion = body.allowed_model_region;
        if (body.default_model !== undefined) patch.defaultModel = body.default_model;
        const updated = await deps.lookups.change({ customers: [body.user_id] }, async (tx) => {
          const row = await updateEndUser(
            tx,
            body.user_id,
            patch,
            toBudgetPatch(body, new Date()),
            randomUUID,
          );
          if (!row) throw customerNotFound(body.user_id, 'user_id');
          return row;
        });
        return customerJson(updated);
      },
    );

    api.route(
      {
        method: 'post',
        path: `${prefix}/delete`,
        tag,
        summary: 'Delete customers; every id must exist',
        access: 'admin',
        body: z.object({ user_ids: z.array(z.string().min(1)).min(1) }),
        response: z.object({ deleted_customers: z.number(), message: z.string() }),
      },
      async ({ body }) => {
        const existing = new Set((await findEndUsers(db, body.user_ids)).map((row) => row.userId));
        const missing = body.user_ids.filter((id) => !existing.has(id));
        if (missing.length > 0) {
          throw new GatewayHttpError({
            kind: 'not_found',
            type: 'not_found',
            param: 'user_ids',
            message: `End User Id(s)=${missing.join(', ')} do not exist in db`,
          });
        }
        const deleted = await deps.lookups.change({ customers: body.user_ids }, (tx) =>
          deleteEndUsers(tx, body.user_ids),
        );
        await deps.admission.forget(body.user_ids.map((id) => `customer:${id}`));
        return {
          deleted_customers: deleted,
          message: `Successfully deleted customers with ids: ${JSON.stringify(body.user_ids)}`,
        };
      },
    );

    api.route(
      {
        method: 'get',
        path: `${prefix}/list`,
        tag,
        summary: 'Every customer',
        access: 'admin',
        response: z.array(customerJsonSchema),
      },
      async () => (await listEndUsers(db)).map(customerJson),
    );

    for (const blocked of [true, false]) {
      api.route(
        {
          method: 'post',
          path: `${prefix}/${blocked ? 'block' : 'unblock'}`,
          tag,
          summary: blocked
            ? 'Block customers (rows are created for ids not seen yet); their requests are refused'
            : 'Unblock customers',
          access: 'admin',
          body: z.object({ user_ids: z.array(z.string().min(1)).min(1) }),
          response: z.record(z.string(), z.array(customerJsonSchema)),
        },
        async ({ body }) => {
          const rows = await deps.lookups.change({ customers: body.user_ids }, (tx) =>
            setEndUsersBlocked(tx, body.user_ids, blocked),
          );
          return {
            [blocked ? 'blocked_users' : 'unblocked_users']: rows.map((endUser) =>
              customerJson({ endUser, budget: null }),
            ),
          };
        },
      );
    }
  }
}

import {
  deleteKeys,
  findKeyByHash,
  findKeysByAliases,
  findKeysByHashes,
  findTeam,
  insertKey,
  listKeys,
  regenerateKey,
  updateKey,
  users,
  type VerificationTokenRow,
} from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError, isUniqueViolation } from '../../errors.ts';
import { displayKeyName, generateRawKey, hashKey, maskKey, toKeyHash } from '../../lookups/virtual-key.ts';
import { addDuration } from '../../support/duration.ts';
import { type AdminApi, queryBoolean } from './admin-api.ts';
import { keyFields, keyJsonSchema, toKeyJson, toKeyPatch } from './key-fields.ts';

const keyRef = z.string().min(1).describe('the raw key (sk-...) or its SHA-256 hash');
const listSortFields = ['spend', 'max_budget', 'created_at', 'updated_at', 'token', 'key_alias'] as const;

function notFound(message: string, param = 'key'): GatewayHttpError {
  return new GatewayHttpError({ kind: 'not_found', message, param });
}

function aliasTaken(alias: string): GatewayHttpError {
  return new GatewayHttpError({
    kind: 'invalid_request',
    param: 'key_alias',
    message: `Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`,
  });
}

/** How a key reference reads in a message: the display form, never a raw key. */
function describeKey(ref: string): string {
  return ref.startsWith('sk-') ? displayKeyName(ref) : ref;
}

/**
 * The key endpoints (contract §2.1-§2.8). Every change is recorded as stale in the same
 * transaction and reaches every cache on every instance before the response is sent.
 */
export function registerKeyRoutes(api: AdminApi, deps: AppDeps): void {
  const db = deps.database.db;

  async function requireTeam(teamId: string | null | undefined): Promise<void> {
    if (teamId && !(await findTeam(db, teamId))) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'team_id',
        message: `Team not found, passed team_id=${teamId}`,
      });
    }
  }

  /** LiteLLM creates the owner's user row on first mention. */
  async function ensureUser(userId: string | null | undefined): Promise<void> {
    if (userId) await db.insert(users).values({ userId }).onConflictDoNothing();
  }

  api.route(
    {
      method: 'post',
      path: '/key/generate',
      tag: 'keys',
      summary: 'Create a virtual key; the raw key is returned only here',
      access: 'admin',
      body: z.object({ key: z.string().min(1).optional(), ...keyFields }),
      response: keyJsonSchema.extend({ key: z.string() }),
    },
    async ({ body }) => {
      if (body.key !== undefined && !body.key.startsWith('sk-')) {
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'key',
          message: `Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${maskKey(body.key)}`,
        });
      }
      const now = new Date();
      const patch = toKeyPatch(body, now);
      await requireTeam(patch.teamId);
      await ensureUser(patch.userId);
      const rawKey = body.key ?? generateRawKey();
      const tokenHash = hashKey(rawKey);
      if (tokenHash === deps.masterKeyHash) {
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'key',
          message: 'This key already exists.',
        });
      }
      let row: VerificationTokenRow;
      try {
        // A lookup of this hash may have been cached as "unknown" (a custom key tried early).
        row = await deps.lookups.change({ keys: [tokenHash] }, (tx) =>
          insertKey(tx, {
            ...patch,
            token: tokenHash,
            keyName: displayKeyName(rawKey),
            createdAt: now,
            updatedAt: now,
            createdBy: 'default_user_id',
            updatedBy: 'default_user_id',
          }),
        );
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (body.key_alias) throw aliasTaken(body.key_alias);
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'key',
          message: 'This key already exists.',
        });
      }
      return { key: rawKey, ...toKeyJson(row) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/key/update',
      tag: 'keys',
      summary: 'Change the fields given in the body; absent fields stay as they are',
      access: 'admin',
      body: z.object({ key: keyRef, ...keyFields }),
      response: keyJsonSchema.extend({ key: z.string() }),
    },
    async ({ body }) => {
      const tokenHash = toKeyHash(body.key);
      const existing = await findKeyByHash(db, tokenHash);
      // LiteLLM answers this with a misleading "Team not found" message; the status is the same.
      if (!existing) throw notFound(`Key not found: ${describeKey(body.key)}`);
      const patch = toKeyPatch(body, new Date(), existing.metadata);
      await requireTeam(patch.teamId);
      await ensureUser(patch.userId);
      let row: VerificationTokenRow;
      try {
        row = await deps.lookups.change({ keys: [tokenHash] }, async (tx) => {
          const updated = await updateKey(tx, tokenHash, { ...patch, updatedBy: 'default_user_id' });
          if (!updated) throw notFound(`Key not found: ${describeKey(body.key)}`);
          return updated;
        });
      } catch (error) {
        if (isUniqueViolation(error) && body.key_alias) throw aliasTaken(body.key_alias);
        throw error;
      }
      // A spend set by hand replaces what the budget counter had counted.
      if (body.spend !== undefined) await deps.admission.forget([`key:${tokenHash}`]);
      return { key: body.key, ...toKeyJson(row) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/key/info',
      tag: 'keys',
      summary: "A key's settings and spend; a virtual key may read only its own",
      access: 'caller',
      query: z.object({ key: keyRef.optional() }),
      response: z.object({ key: z.string(), info: keyJsonSchema.omit({ token: true, token_id: true }) }),
    },
    async ({ caller, query }) => {
      const tokenHash = query.key
        ? toKeyHash(query.key)
        : caller.kind === 'virtual'
          ? caller.key.tokenHash
          : undefined;
      if (!tokenHash)
        throw new GatewayHttpError({ kind: 'validation_error', param: 'key', message: 'Pass ?key=' });
      if (caller.kind === 'virtual' && caller.key.tokenHash !== tokenHash) {
        throw new GatewayHttpError({
          kind: 'forbidden',
          message: "You are not allowed to access this key's info. Your role=internal_user",
        });
      }
      // Read from the database, not the caches: spend must be the written total.
      const row = await findKeyByHash(db, tokenHash);
      if (!row) throw notFound('Key not found in database');
      const { token: _hash, token_id: _id, ...info } = toKeyJson(row);
      return { key: query.key ?? tokenHash, info };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/key/list',
      tag: 'keys',
      summary: 'Keys, a page at a time, filtered by user, team, organization, alias or hash',
      access: 'admin',
      query: z.object({
        page: z.coerce.number().int().min(1).default(1),
        size: z.coerce.number().int().min(1).max(100).default(10),
        user_id: z.string().optional(),
        team_id: z.string().optional(),
        organization_id: z.string().optional(),
        key_hash: z.string().optional(),
        key_alias: z.string().optional(),
        return_full_object: queryBoolean.default(false),
        sort_by: z.string().default('created_at'),
        sort_order: z.enum(['asc', 'desc']).default('desc'),
      }),
      response: z.object({
        keys: z.array(z.union([z.string(), keyJsonSchema])),
        total_count: z.number(),
        current_page: z.number(),
        total_pages: z.number(),
      }),
    },
    async ({ query }) => {
      const sortBy = query.sort_by as (typeof listSortFields)[number];
      if (!listSortFields.includes(sortBy)) {
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'sort_by',
          message: `Invalid sort_by: ${query.sort_by}. Use one of ${listSortFields.join(', ')}`,
        });
      }
      const { rows, total } = await listKeys(db, {
        page: query.page,
        size: query.size,
        sortBy,
        sortOrder: query.sort_order,
        ...(query.user_id ? { userId: query.user_id } : {}),
        ...(query.team_id ? { teamId: query.team_id } : {}),
        ...(query.organization_id ? { organizationId: query.organization_id } : {}),
        ...(query.key_alias ? { keyAlias: query.key_alias } : {}),
        ...(query.key_hash ? { keyHash: toKeyHash(query.key_hash) } : {}),
      });
      return {
        keys: query.return_full_object ? rows.map(toKeyJson) : rows.map((r) => r.token),
        total_count: total,
        current_page: query.page,
        total_pages: Math.ceil(total / query.size),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/key/delete',
      tag: 'keys',
      summary: 'Delete keys by key (raw or hash) or alias; they stop working at once everywhere',
      access: 'admin',
      body: z
        .object({ keys: z.array(keyRef).optional(), key_aliases: z.array(z.string()).optional() })
        .refine((b) => (b.keys?.length ?? 0) + (b.key_aliases?.length ?? 0) > 0, {
          message: "At least one of 'keys' or 'key_aliases' must be provided.",
        }),
      response: z.object({ deleted_keys: z.array(z.string()) }),
    },
    async ({ body }) => {
      const byKey = await findKeysByHashes(db, (body.keys ?? []).map(toKeyHash));
      const byAlias = await findKeysByAliases(db, body.key_aliases ?? []);
      const hashes = [...new Set([...byKey, ...byAlias].map((row) => row.token))];
      if (hashes.length === 0) throw notFound('No keys found');
      // Deleted and recorded as stale in one transaction: durable before any cache hears of it.
      await deps.lookups.change({ keys: hashes }, (tx) => deleteKeys(tx, hashes));
      // A key generated again with the same value starts from its own (zero) spend.
      await deps.admission.forget(hashes.map((hash) => `key:${hash}`));
      const found = new Set(hashes);
      const aliases = new Set(byAlias.map((row) => row.keyAlias));
      return {
        deleted_keys: [
          ...(body.keys ?? []).filter((ref) => found.has(toKeyHash(ref))),
          ...(body.key_aliases ?? []).filter((alias) => aliases.has(alias)),
        ],
      };
    },
  );

  const regenerateBody = z.object({
    key: keyRef.optional(),
    new_key: z.string().min(1).optional(),
    grace_period: z.string().nullish(),
    ...keyFields,
  });
  async function regenerate(ref: string | undefined, body: z.output<typeof regenerateBody>) {
    if (!ref)
      throw new GatewayHttpError({ kind: 'invalid_request', param: 'key', message: 'No key passed in.' });
    if (body.new_key !== undefined && !body.new_key.startsWith('sk-')) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'new_key',
        message: `New key must start with 'sk-'. Received: ${maskKey(body.new_key)}`,
      });
    }
    const now = new Date();
    let graceUntil: Date | undefined;
    if (body.grace_period) {
      graceUntil = addDuration(now, body.grace_period);
      if (!graceUntil) {
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'grace_period',
          message: `Invalid grace_period: ${body.grace_period}`,
        });
      }
    }
    const oldHash = toKeyHash(ref);
    const existing = await findKeyByHash(db, oldHash);
    if (!existing) throw notFound(`Key ${describeKey(ref)} not found.`);
    const patch = toKeyPatch(body, now, existing.metadata);
    await requireTeam(patch.teamId);
    const rawKey = body.new_key ?? generateRawKey();
    const newHash = hashKey(rawKey);
    const row = await deps.lookups.change({ keys: [oldHash, newHash] }, async (tx) => {
      const regenerated = await regenerateKey(
        tx,
        oldHash,
        newHash,
        { ...patch, keyName: displayKeyName(rawKey), updatedBy: 'default_user_id' },
        graceUntil,
      );
      if (!regenerated) throw notFound(`Key ${describeKey(ref)} not found.`);
      return regenerated;
    });
    return { key: rawKey, ...toKeyJson(row) };
  }
  const regenerateSpec = {
    method: 'post' as const,
    tag: 'keys',
    summary:
      'Give a key a new value, keeping its settings and spend; the old one works until grace_period ends',
    access: 'admin' as const,
    body: regenerateBody,
    response: keyJsonSchema.extend({ key: z.string() }),
  };
  api.route({ ...regenerateSpec, path: '/key/regenerate' }, ({ body }) => regenerate(body.key, body));
  api.route({ ...regenerateSpec, path: '/key/:key/regenerate' }, ({ c, body }) =>
    regenerate(c.req.param('key'), body),
  );

  for (const blocked of [true, false]) {
    api.route(
      {
        method: 'post',
        path: blocked ? '/key/block' : '/key/unblock',
        tag: 'keys',
        summary: blocked ? 'Block a key: it is refused at once everywhere' : 'Unblock a key',
        access: 'admin',
        body: z.object({ key: keyRef }),
        response: keyJsonSchema,
      },
      async ({ body }) => {
        const tokenHash = toKeyHash(body.key);
        const row = await deps.lookups.change({ keys: [tokenHash] }, async (tx) => {
          const updated = await updateKey(tx, tokenHash, { blocked });
          if (!updated) throw notFound(`Key not found: ${describeKey(body.key)}`);
          return updated;
        });
        return toKeyJson(row);
      },
    );
  }

  api.route(
    {
      method: 'post',
      path: '/key/health',
      tag: 'keys',
      summary: "The calling key's health (no logging callbacks are configured per key)",
      access: 'caller',
      response: z.object({ key: z.enum(['healthy', 'unhealthy']), logging_callbacks: z.null() }),
    },
    async () => ({ key: 'healthy' as const, logging_callbacks: null }),
  );
}

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Who a call's spend lands on: the end user from each source in the documented order, the
 * tags from each source, and every entity's total equal to its rows to the nano-dollar.
 */
describe('attribution of spend (Postgres and Redis)', () => {
  let t: TestGateway;
  let key: string;
  beforeAll(async () => {
    t = await startTestGateway('postgres+redis');
    const admin = async (path: string, body: unknown) => {
      const response = await fetch(`${t.gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    await admin('/team/new', { team_id: 'attr-team', metadata: { tags: ['team-tag'] } });
    await admin('/user/new', { user_id: 'attr-owner', auto_create_key: false });
    key = await t.createKey({ team_id: 'attr-team', user_id: 'attr-owner', tags: ['key-tag'] });
  });
  afterAll(async () => {
    await t?.close();
  });

  const getJson = async <T>(path: string): Promise<T> =>
    (await (
      await fetch(`${t.gateway.url}${path}`, { headers: { authorization: `Bearer ${t.masterKey}` } })
    ).json()) as T;

  it('takes the end user and tags from each source and adds each cost to every entity', async () => {
    const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Hello' }];
    const calls: { id: string | null; endUser: string; tags: string[] }[] = [];

    // OpenAI `user` alone.
    let r = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', user: 'eu-user', messages })
      .withResponse();
    calls.push({
      id: r.response.headers.get('x-litellm-call-id'),
      endUser: 'eu-user',
      tags: ['key-tag', 'team-tag'],
    });

    // litellm_metadata wins over `user`; its tags come first.
    r = await openai.chat.completions
      .create({
        model: 'gpt-4o-mini',
        user: 'eu-user',
        messages,
        // @ts-expect-error LiteLLM's extension of the body
        litellm_metadata: { user: 'eu-litellm', tags: ['lm-tag'] },
      })
      .withResponse();
    calls.push({
      id: r.response.headers.get('x-litellm-call-id'),
      endUser: 'eu-litellm',
      tags: ['lm-tag', 'key-tag', 'team-tag'],
    });

    // The end-user header wins over everything in the body; header tags and metadata.tags merge.
    r = await openai.chat.completions
      .create(
        {
          model: 'gpt-4o-mini',
          user: 'eu-user',
          messages,
          // @ts-expect-error OpenAI's metadata is string-valued; LiteLLM reads tags from it
          metadata: { tags: ['md-tag'] },
        },
        { headers: { 'x-litellm-end-user-id': 'eu-header', 'x-litellm-tags': 'h1, h2' } },
      )
      .withResponse();
    calls.push({
      id: r.response.headers.get('x-litellm-call-id'),
      endUser: 'eu-header',
      tags: ['md-tag', 'h1', 'h2', 'key-tag', 'team-tag'],
    });

    // Anthropic's metadata.user_id on /v1/messages.
    const m = await anthropic.messages
      .create({ model: 'claude-sonnet', max_tokens: 32, messages, metadata: { user_id: 'eu-anthropic' } })
      .withResponse();
    calls.push({
      id: m.response.headers.get('x-litellm-call-id'),
      endUser: 'eu-anthropic',
      tags: ['key-tag', 'team-tag'],
    });

    await t.gateway.spendQueue.flush();
    const rows: { spend: string; end_user: string; request_tags: string[] }[] = [];
    for (const call of calls) {
      const row = await t.spendRow<{
        spend: string;
        end_user: string;
        request_tags: string[];
        team_id: string;
      }>(call.id);
      expect({ endUser: row.end_user, tags: row.request_tags, team: row.team_id }).toEqual({
        endUser: call.endUser,
        tags: call.tags,
        team: 'attr-team',
      });
      rows.push(row);
    }
    const total = rows.reduce((sum, row) => sum + toNanoUsd(row.spend), 0n);
    expect(total).toBeGreaterThan(0n);

    const single = async (sql: string, id: string) =>
      toNanoUsd((await t.query<{ spend: string }>(sql, [id]))[0]!.spend);
    expect(
      await single(
        'select spend::text as spend from "LiteLLM_VerificationToken" where token = $1',
        hashKey(key),
      ),
    ).toBe(total);
    expect(
      await single('select spend::text as spend from "LiteLLM_TeamTable" where team_id = $1', 'attr-team'),
    ).toBe(total);
    expect(
      await single('select spend::text as spend from "LiteLLM_UserTable" where user_id = $1', 'attr-owner'),
    ).toBe(total);
    for (const [i, call] of calls.entries()) {
      const info = await getJson<{ user_id: string; spend: number }>(
        `/customer/info?end_user_id=${call.endUser}`,
      );
      expect(info.user_id).toBe(call.endUser);
      expect(
        await single(
          'select spend::text as spend from "LiteLLM_EndUserTable" where user_id = $1',
          call.endUser,
        ),
      ).toBe(toNanoUsd(rows[i]!.spend));
    }
    const tagSpend = (tag: string) =>
      rows
        .filter((row) => row.request_tags.includes(tag))
        .reduce((sum, row) => sum + toNanoUsd(row.spend), 0n);
    for (const tag of ['key-tag', 'team-tag', 'lm-tag', 'md-tag', 'h1', 'h2']) {
      expect(
        await single('select spend::text as spend from "LiteLLM_TagTable" where tag_name = $1', tag),
      ).toBe(tagSpend(tag));
    }
    const report = await getJson<{ ok: boolean; difference: string }>('/spend/reconcile');
    expect(report).toMatchObject({ ok: true, difference: '0' });
  });
});

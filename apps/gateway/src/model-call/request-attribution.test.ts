import { describe, expect, it } from 'vitest';
import { resolveEndUser, resolveTags } from './request-attribution.ts';

describe('resolveEndUser', () => {
  it('prefers the configured header, then litellm_metadata.user, metadata.user_id, then user', () => {
    const body = {
      user: 'u-body',
      litellm_metadata: { user: 'u-litellm' },
      metadata: { user_id: 'u-anthropic' },
    };
    expect(resolveEndUser(new Headers({ 'x-litellm-end-user-id': 'u-header' }), body)).toBe('u-header');
    expect(resolveEndUser(new Headers({ 'x-litellm-customer-id': 'u-customer' }), body)).toBe('u-customer');
    expect(resolveEndUser(new Headers(), body)).toBe('u-litellm');
    expect(resolveEndUser(new Headers(), { ...body, litellm_metadata: undefined })).toBe('u-anthropic');
    expect(resolveEndUser(new Headers(), { user: 'u-body' })).toBe('u-body');
    expect(resolveEndUser(new Headers(), {})).toBeUndefined();
  });

  it('reads only the headers configured, when configured', () => {
    const headers = new Headers({ 'x-litellm-end-user-id': 'u-default', 'x-openwebui-user-id': 'u-webui' });
    expect(resolveEndUser(headers, { user: 'u-body' }, ['x-openwebui-user-id'])).toBe('u-webui');
    expect(resolveEndUser(headers, { user: 'u-body' }, [])).toBe('u-body');
  });

  it('reads litellm_metadata sent as a JSON string', () => {
    expect(resolveEndUser(new Headers(), { litellm_metadata: '{"user":"u-json"}' })).toBe('u-json');
  });
});

describe('resolveTags', () => {
  it('merges request, header and key tags without duplicates', () => {
    const tags = resolveTags(
      new Headers({ 'x-litellm-tags': 'team-a, prod' }),
      { litellm_metadata: { tags: ['prod', 'chat'] }, tags: ['batch'] },
      { tags: ['key-tag', 'chat'] },
      { tags: ['team-tag', 'key-tag'] },
    );
    expect(tags).toEqual(['prod', 'chat', 'batch', 'team-a', 'key-tag', 'team-tag']);
  });
});

describe('client-supplied ids and tags', () => {
  it('are stripped of NUL and control characters and bounded in length and number', () => {
    expect(resolveEndUser(new Headers(), { user: 'ali\u0000ce\n' })).toBe('alice');
    expect(resolveEndUser(new Headers(), { user: 'x'.repeat(1000) })).toHaveLength(256);
    expect(resolveEndUser(new Headers(), { user: '\u0000' })).toBeUndefined();
    const many = Array.from({ length: 100 }, (_, i) => `t${i}\u0000`);
    const tags = resolveTags(new Headers(), { tags: many }, {});
    expect(tags).toHaveLength(64);
    expect(tags[0]).toBe('t0');
  });
});

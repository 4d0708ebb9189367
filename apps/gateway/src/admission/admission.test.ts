import type { PriceResult } from '@gateway/pricing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Deployment } from '../config/gateway-config.ts';
import { maxOutputTokensOf } from '../model-call/model-call.ts';
import {
  admissionHeaders,
  admissionScopes,
  admitCall,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DOCUMENT_PAGE_TOKENS_AT_MOST,
  documentPages,
  IMAGE_TOKENS_AT_MOST,
  inputTokensAtMost,
  pythonFloat,
  textTokensAtMost,
  UNPRICED_RESERVATION_NANOS,
  UNREAD_DOCUMENT_PAGES,
} from './admission.ts';
import { admissionLedgerContract } from './ledger.contract.ts';
import { InProcessAdmissionLedger, scopeId } from './ledger.ts';

describe('InProcessAdmissionLedger, as every ledger', () => {
  admissionLedgerContract(async (timings) => new InProcessAdmissionLedger(timings));
});

describe('InProcessAdmissionLedger memory', () => {
  afterEach(() => vi.useRealTimers());

  it('drops counters idle for a day, but keeps a per-model budget until its window ends', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') });
    const ledger = new InProcessAdmissionLedger();
    const keep = Date.parse('2026-12-08T00:00:00Z');
    const weekly = {
      id: 'key:k:model-budget',
      budget: { limitNanos: 60, seedNanos: 0, blockAtLimit: true, keepUntilMs: keep },
    };
    const plain = { id: 'key:k', limits: { rpm: 10 } };
    const call = await ledger.admit('1', [weekly, plain], 60);
    if (!call.ok) throw new Error('refused');
    await ledger.settle(call.reservation, 60, 0);
    vi.setSystemTime(new Date('2026-12-03T00:00:00Z'));
    await ledger.admit('2', [{ id: 'key:other', limits: { rpm: 10 } }], 0);
    expect(ledger.size).toBe(2);
    // Two days on, the week's spend still counts against the model's budget.
    expect(await ledger.admit('3', [weekly], 60)).toMatchObject({
      ok: false,
      reason: 'budget',
      spentNanos: 60,
    });
    vi.setSystemTime(new Date('2026-12-09T00:00:00Z'));
    await ledger.admit('4', [{ id: 'key:third', limits: { rpm: 10 } }], 0);
    expect(ledger.size).toBe(1);
  });
});

describe('pythonFloat', () => {
  it.each([
    [10e9, '10.0'],
    [0, '0.0'],
    [123_000, '0.000123'],
    [15_300, '1.53e-05'],
    [1, '1e-09'],
    [1.5e9, '1.5'],
    [250_000_000_000, '250.0'],
  ])('prints %d nano-dollars as Python would: %s', (nanos, text) => {
    expect(pythonFloat(nanos)).toBe(text);
  });
});

describe('InProcessAdmissionLedger budgets', () => {
  const key = { id: 'key:k', budget: { limitNanos: 100, seedNanos: 0, blockAtLimit: true } };
  const team = { id: 'team:t', budget: { limitNanos: 50, seedNanos: 40, blockAtLimit: false } };

  it('admits while spend plus reservations is under the limit, then refuses', async () => {
    const ledger = new InProcessAdmissionLedger();
    const first = await ledger.admit('r1', [key], 60);
    const second = await ledger.admit('r2', [key], 60);
    // 60 + 60 = 120 held: a third call finds the budget used up.
    const third = await ledger.admit('r3', [key], 60);
    expect([first.ok, second.ok, third.ok]).toEqual([true, true, false]);
    if (!first.ok || !second.ok) return;
    // Settling at the real cost frees what was over-reserved.
    await ledger.settle(first.reservation, 10, 0);
    await ledger.settle(second.reservation, 10, 0);
    expect((await ledger.admit('r4', [key], 60)).ok).toBe(true);
  });

  it('blocks at the limit for keys, only above it for teams, and never a call that costs nothing', async () => {
    const ledger = new InProcessAdmissionLedger();
    const atLimit = { ...key, budget: { ...key.budget, seedNanos: 100 } };
    expect(await ledger.admit('a', [atLimit], 1)).toMatchObject({ ok: false, spentNanos: 100 });
    expect((await ledger.admit('b', [atLimit], 0)).ok).toBe(true);
    const teamAtLimit = { ...team, budget: { ...team.budget, seedNanos: 50 } };
    expect((await ledger.admit('c', [teamAtLimit], 1)).ok).toBe(true);
    expect((await ledger.admit('d', [teamAtLimit], 1)).ok).toBe(false);
  });

  it('reserves on every scope or on none', async () => {
    const ledger = new InProcessAdmissionLedger();
    // The team has 10 left: the first call fits and holds 30 on both; the second finds the team used up.
    expect((await ledger.admit('x', [key, team], 30)).ok).toBe(true);
    const refused = await ledger.admit('y', [key, team], 30);
    expect(refused).toMatchObject({ ok: false, scope: { id: 'team:t' } });
    // Nothing was held on the key for the refused call: 30 held of 100.
    expect((await ledger.admit('z', [key], 60)).ok).toBe(true);
  });

  it('drops a reservation that was never settled once it lapses', async () => {
    const ledger = new InProcessAdmissionLedger({ windowMs: 60_000, reservationTtlMs: 20 });
    expect((await ledger.admit('lost', [key], 100)).ok).toBe(true);
    expect((await ledger.admit('blocked', [key], 1)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect((await ledger.admit('later', [key], 1)).ok).toBe(true);
  });
});

describe('InProcessAdmissionLedger limits', () => {
  it('refuses once the window holds tpm tokens, counted when calls settle', async () => {
    const ledger = new InProcessAdmissionLedger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const scope = { id: 'key:t', limits: { tpm: 100 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(first).toMatchObject({ ok: true, reservation: { remaining: [{ tokens: 100 }] } });
    if (!first.ok) return;
    await ledger.settle(first.reservation, 0, 99);
    const second = await ledger.admit('2', [scope], 0);
    expect(second).toMatchObject({ ok: true, reservation: { remaining: [{ tokens: 1 }] } });
    if (!second.ok) return;
    await ledger.settle(second.reservation, 0, 1);
    expect(await ledger.admit('3', [scope], 0)).toMatchObject({ ok: false, reason: 'tokens', limit: 100 });
  });

  it('holds at most max_parallel_requests calls in flight', async () => {
    const ledger = new InProcessAdmissionLedger();
    const scope = { id: 'key:p', limits: { parallel: 1 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(await ledger.admit('2', [scope], 0)).toMatchObject({ ok: false, reason: 'max_parallel_requests' });
    if (!first.ok) return;
    await ledger.settle(first.reservation, 0, 0);
    expect((await ledger.admit('3', [scope], 0)).ok).toBe(true);
  });
});

describe('admitCall reservations', () => {
  const scopes = [{ id: 'key:k', budget: { limitNanos: 1_000_000, seedNanos: 0, blockAtLimit: true } }];
  async function reserved(price: PriceResult): Promise<number> {
    const ledger = new InProcessAdmissionLedger();
    const reservation = await admitCall({
      ledger,
      requestId: 'r',
      scopes,
      estimate: () => ({ inputTokens: 10, outputTokens: 10 }),
      price: () => price,
    });
    return reservation?.amountNanos ?? -1;
  }

  it('reserves the worst-case price, nothing for a free model, a nano-dollar when the price is unknown before the call', async () => {
    expect(await reserved({ priced: true, costUsd: '0.000123', source: 'catalog' })).toBe(123_000);
    expect(await reserved({ priced: true, costUsd: '0', source: 'free' })).toBe(0);
    expect(await reserved({ priced: false, reason: 'unknown_model', detail: 'priced by the provider' })).toBe(
      UNPRICED_RESERVATION_NANOS,
    );
  });
});

describe('maxOutputTokensOf', () => {
  const deployment = (upstreamModel: string, provider: Deployment['provider'], maxOutputTokens?: number) =>
    ({
      modelName: 'm',
      deploymentId: 'd',
      provider,
      upstreamModel,
      apiBase: 'http://127.0.0.1',
      priceOverrides: {},
      ...(maxOutputTokens ? { maxOutputTokens } : {}),
    }) satisfies Deployment;

  it('takes the configured cap, else the model’s own, else the default', () => {
    expect(maxOutputTokensOf(deployment('gpt-4o', 'openai', 1_000))).toBe(1_000);
    expect(maxOutputTokensOf(deployment('gpt-4o-2024-08-06', 'openai'))).toBe(16_384);
    expect(maxOutputTokensOf(deployment('my-local-model', 'ollama'))).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
  });
});

describe('the input token bound', () => {
  // o200k, the tokenizer of OpenAI's current models: the bound must hold for it on any script.
  const texts = {
    english: 'The quick brown fox jumps over the lazy dog while the budget holds.'.repeat(20),
    chinese: '预算的保留必须是任何文本的上限，无论使用哪种文字。'.repeat(40),
    japanese: 'すべてのテキストに対して予算の予約は上限でなければなりません。'.repeat(30),
    emoji: '😀🎉🚀🔥👩‍💻'.repeat(60),
    arabic: 'يجب أن يكون حجز الميزانية حدًا أعلى لأي نص.'.repeat(30),
    mixed: 'const 名前 = "値"; // コメント 🚀\n'.repeat(40),
  };

  it.each(Object.entries(texts))('never undercounts %s text', async (_name, text) => {
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    expect(textTokensAtMost(text)).toBeGreaterThanOrEqual(countTokens(text));
  });

  it('counts non-ASCII text by its UTF-8 bytes and ASCII by a third of its length', () => {
    expect(textTokensAtMost('abcdef')).toBe(2);
    expect(textTokensAtMost('中文')).toBe(6);
    expect(textTokensAtMost('ab中')).toBeCloseTo(2 / 3 + 3);
    expect(textTokensAtMost('😀')).toBe(4);
  });

  it('adds images and document pages at their most', () => {
    expect(inputTokensAtMost({ text: '', messages: 1, images: 2, documentPages: 3 })).toBe(
      4 + 2 * IMAGE_TOKENS_AT_MOST + 3 * DOCUMENT_PAGE_TOKENS_AT_MOST,
    );
  });

  it('counts the pages of a PDF given as base64, and assumes some for one it cannot read', () => {
    const pdf = [
      '%PDF-1.4',
      '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
      '2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj',
      '3 0 obj << /Type /Page /Parent 2 0 R >> endobj',
      '4 0 obj << /Type/Page /Parent 2 0 R >> endobj',
      '5 0 obj << /Type /Page /Parent 2 0 R >> endobj',
      '%%EOF',
    ].join('\n');
    const base64 = Buffer.from(pdf, 'latin1').toString('base64');
    expect(documentPages(base64)).toBe(3);
    expect(documentPages(`data:application/pdf;base64,${base64}`)).toBe(3);
    expect(documentPages(undefined)).toBe(UNREAD_DOCUMENT_PAGES);
  });
});

describe('scopes and their owners', () => {
  it('names every scope by its owner, and a refusal and the headers by the owner, not by parsing ids', async () => {
    const caller = {
      kind: 'virtual',
      key: {
        tokenHash: 'abc123',
        maxBudget: '1',
        spend: '0',
        budgetResetAtMs: null,
        softBudget: null,
        rpmLimit: null,
        tpmLimit: null,
        maxParallelRequests: null,
        metadata: { model_rpm_limit: { 'openai/gpt:mini': 5 } },
        modelMaxBudget: {},
      },
    } as unknown as Parameters<typeof admissionScopes>[0];
    const team = {
      teamId: 'team:with:colons',
      maxBudget: '0.000001',
      spend: '0.5',
      softBudget: null,
      budgetResetAtMs: null,
      rpmLimit: null,
      tpmLimit: null,
      maxParallelRequests: null,
    } as unknown as Parameters<typeof admissionScopes>[1];
    const scopes = admissionScopes(caller, team, undefined, undefined, 'openai/gpt:mini');
    expect(scopes.map((scope) => [scope.id, scope.owner])).toEqual([
      ['key:abc123', { kind: 'key', keyHash: 'abc123' }],
      ['key:abc123:model:openai/gpt:mini', { kind: 'model', keyHash: 'abc123', model: 'openai/gpt:mini' }],
      ['team:team:with:colons', { kind: 'team', id: 'team:with:colons' }],
    ]);
    for (const scope of scopes) expect(scope.id).toBe(scopeId(scope.owner!));

    const ledger = new InProcessAdmissionLedger();
    const refused = admitCall({
      ledger,
      requestId: 'r1',
      scopes,
      estimate: () => ({ inputTokens: 10, outputTokens: 10 }),
      price: () => ({ priced: true, costUsd: '0.001' }) as PriceResult,
    });
    await expect(refused).rejects.toMatchObject({
      error: { message: expect.stringContaining('Team=team:with:colons Current cost') },
    });

    const admitted = await admitCall({
      ledger,
      requestId: 'r2',
      scopes: scopes.slice(0, 2),
      estimate: () => ({ inputTokens: 10, outputTokens: 10 }),
      price: () => ({ priced: true, costUsd: '0.001' }) as PriceResult,
    });
    expect(admissionHeaders(admitted)).toMatchObject({
      'x-litellm-key-remaining-requests-openai-gpt-mini': '4',
    });
  });
});

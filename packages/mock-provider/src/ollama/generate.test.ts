import { describe, expect, it } from 'vitest';
import { countPromptTokens } from '../reply.ts';
import { toOllamaDoneFields } from './done-fields.ts';
import {
  answerOllamaGenerate,
  planOllamaGenerate,
  toOllamaGenerateBody,
  toOllamaGenerateStreamParts,
} from './generate.ts';

const lines = (frames: string[]) =>
  frames
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

describe('mock Ollama /api/generate', () => {
  it('answers a §7.2 body with response, context and done fields', () => {
    const body = toOllamaGenerateBody(
      planOllamaGenerate({ model: 'llama3.1', prompt: 'Why? [mock:reply_tokens=2]' }),
    );
    const promptTokens = countPromptTokens(['Why? [mock:reply_tokens=2]']);
    expect(body).toEqual({
      model: 'llama3.1',
      created_at: expect.any(String),
      response: 'This is',
      done: true,
      done_reason: 'stop',
      context: Array.from({ length: promptTokens + 2 }, (_, i) => i + 1),
      ...toOllamaDoneFields(promptTokens, 2),
    });
  });

  it('answers a suffix with a fill-in that echoes it', () => {
    const body = toOllamaGenerateBody(
      planOllamaGenerate({
        model: 'codellama:code',
        prompt: 'def f(a):',
        suffix: '    return a',
        options: { num_predict: 2 },
      }),
    );
    expect(body).toMatchObject({ response: '[fill-in before "    return a"] is', done_reason: 'length' });
  });

  it('counts and reads directives from the system prompt', () => {
    const plan = planOllamaGenerate({ model: 'm', prompt: 'hi', system: 'Be terse. [mock:reply_tokens=1]' });
    expect(plan.output.content).toEqual(['This']);
    expect(plan.promptEvalCount).toBe(countPromptTokens(['Be terse. [mock:reply_tokens=1]', 'hi']));
  });

  it('streams response lines, thinking first, then the done line', () => {
    const parts = toOllamaGenerateStreamParts(
      planOllamaGenerate({ model: 'm', prompt: 'x [mock:reply_tokens=1]', think: true }),
    );
    const all = lines([...parts.tokens, ...parts.tail]);
    expect(all.slice(0, 8).every((l) => l.response === '' && typeof l.thinking === 'string')).toBe(true);
    expect(all[8]).toMatchObject({ response: 'This', done: false });
    expect(all[9]).toMatchObject({ response: '', done: true, done_reason: 'stop', eval_count: 9 });
  });

  it('streams unless stream is false, and drops the connection for cut_after', () => {
    expect(answerOllamaGenerate({ model: 'm', prompt: 'x', stream: false }).kind).toBe('json');
    const cut = answerOllamaGenerate({ model: 'm', prompt: 'x [mock:cut_after=2]' });
    expect(cut).toMatchObject({ kind: 'stream', format: 'ndjson', dropConnection: true });
    if (cut.kind === 'stream') expect(lines(cut.frames)).toHaveLength(2);
  });

  it('only loads the model without a prompt', () => {
    expect(toOllamaGenerateBody(planOllamaGenerate({ model: 'm' }))).toEqual({
      model: 'm',
      created_at: expect.any(String),
      response: '',
      done: true,
      done_reason: 'load',
    });
  });
});

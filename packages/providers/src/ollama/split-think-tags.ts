/**
 * Reasoning that a model writes inline as `<think>...</think>` at the start of its answer
 * (DeepSeek-R1 and Qwen3 on Ollama versions or calls without `think`), split from the answer
 * text as LiteLLM does (`_parse_content_for_reasoning`). Stateful so that it works on stream
 * fragments: Ollama emits each tag as one token, so a tag is never split across two lines.
 */
export class ThinkTagSplitter {
  #state: 'start' | 'reasoning' | 'text' = 'start';

  /** One fragment -> its reasoning and answer parts (either may be empty). */
  push(fragment: string): { reasoning: string; text: string } {
    let rest = fragment;
    let reasoning = '';
    if (this.#state === 'start') {
      const leading = rest.trimStart();
      if (leading.startsWith('<think>')) {
        this.#state = 'reasoning';
        rest = leading.slice('<think>'.length);
      } else if (leading !== '') {
        this.#state = 'text';
      }
    }
    if (this.#state === 'reasoning') {
      const close = rest.indexOf('</think>');
      if (close === -1) return { reasoning: rest, text: '' };
      reasoning = rest.slice(0, close);
      rest = rest.slice(close + '</think>'.length);
      this.#state = 'text';
    }
    return { reasoning, text: rest };
  }
}

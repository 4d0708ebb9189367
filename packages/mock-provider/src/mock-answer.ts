/**
 * What a route answers, decided up front by the vendor's pure code; the server only writes it.
 * Failures are values too: `error` carries the HTTP status and, when the status's generic text
 * won't do, the message; the route renders it in its vendor's error shape.
 */
export type MockAnswer = MockJsonAnswer | MockStreamAnswer | MockErrorAnswer;

/** A 200 JSON body. */
export interface MockJsonAnswer {
  kind: 'json';
  body: unknown;
  headers?: Record<string, string>;
}

/** A 200 stream, written frame by frame. */
export interface MockStreamAnswer {
  kind: 'stream';
  /** `sse`: `text/event-stream`; `ndjson`: `application/x-ndjson` (Ollama). */
  format: 'sse' | 'ndjson';
  /** The body in order, each piece complete: one SSE event or comment, or one NDJSON line. */
  frames: string[];
  /** Drop the connection after the last frame instead of ending the body (`[mock:cut_after=N]`). */
  dropConnection: boolean;
  /** Pause after each frame, ms, from `[mock:chunk_delay_ms=N]`; the server's option otherwise. */
  chunkDelayMs?: number;
  headers?: Record<string, string>;
}

/** An HTTP error in the route's vendor shape. */
export interface MockErrorAnswer {
  kind: 'error';
  status: number;
  message?: string;
}

/** One SSE event with only a `data:` line (OpenAI style); strings such as `[DONE]` go as they are. */
export function toSseData(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

/** An SSE comment line, which parsers must skip (DeepSeek `keep-alive`, `OPENROUTER PROCESSING`). */
export function toSseComment(text: string): string {
  return `: ${text}\n\n`;
}

/** One NDJSON line: the JSON and a newline, no `data:` prefix. */
export function toNdjsonLine(payload: unknown): string {
  return `${JSON.stringify(payload)}\n`;
}

/** The pieces of a planned stream, before the stream directives apply. */
export interface StreamParts {
  /** Frames before the first token (comments, role chunk). */
  head: string[];
  /**
   * One entry per streamed token, in order. An entry may hold several frames (a tool call's header
   * glued to its first arguments fragment), so a cut never separates them.
   */
  tokens: string[];
  /** Frames after the last token (finish, usage, `[DONE]` or the `done: true` line). */
  tail: string[];
  /** What the vendor sends when the stream fails after it started. */
  errorFrames: string[];
}

/**
 * The frames to write: `head`, `tokens`, `tail`, unless a stream directive stops the stream first.
 * `[mock:stream_error_after=N]` sends `errorFrames` after N tokens and ends the body;
 * `[mock:cut_after=N]` stops after N tokens and asks for the connection to be dropped. When the
 * answer has fewer than N tokens, both happen just before the tail, so the stream never finishes.
 * The earlier of the two wins; on a tie, the error.
 */
export function toStreamFrames(
  parts: StreamParts,
  stops: { cutAfter?: number; streamErrorAfter?: number },
): { frames: string[]; dropConnection: boolean } {
  const errorAt = stops.streamErrorAfter ?? Number.POSITIVE_INFINITY;
  const cutAt = stops.cutAfter ?? Number.POSITIVE_INFINITY;
  const stopAt = Math.min(errorAt, cutAt);
  if (stopAt === Number.POSITIVE_INFINITY) {
    return { frames: [...parts.head, ...parts.tokens, ...parts.tail], dropConnection: false };
  }
  const frames = [...parts.head, ...parts.tokens.slice(0, stopAt)];
  if (errorAt === stopAt) return { frames: [...frames, ...parts.errorFrames], dropConnection: false };
  return { frames, dropConnection: true };
}

/** The `message` of a 400 for a body its route's schema refused: `Invalid request: <path> <problem>`. */
export function toInvalidBodyMessage(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  return `Invalid request: ${issue?.path.map(String).join('.') ?? ''} ${issue?.message ?? ''}`.trim();
}

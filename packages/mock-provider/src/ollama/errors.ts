const messagesByStatus: Record<number, string> = {
  400: 'invalid request (mock)',
  404: 'model not found, try pulling it first',
  429: 'too many requests (mock)',
  500: 'an error was encountered while running the model (mock)',
  503: 'server busy, please try again. maximum pending requests exceeded',
};

/**
 * Ollama's error body (provider-wire-formats.md §7.4): `{"error": "<text>"}`, `message` if given,
 * else a text for the status.
 */
export function toOllamaErrorBody(status: number, message?: string): { error: string } {
  return { error: message ?? messagesByStatus[status] ?? 'mock error' };
}

/** The text of a `[mock:error=STATUS]` answer; a 404 names the model as Ollama does. */
export function toOllamaErrorMessage(status: number, model: string): string {
  return status === 404
    ? `model ${JSON.stringify(model)} not found, try pulling it first`
    : toOllamaErrorBody(status).error;
}

/** The line Ollama writes when generation fails after the stream started (§7.4). */
export const OLLAMA_STREAM_ERROR = {
  error: 'an error was encountered while running the model: unexpected EOF',
} as const;

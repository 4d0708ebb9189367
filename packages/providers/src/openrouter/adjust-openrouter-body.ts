/**
 * OpenRouter's changes to an OpenAI body (wire formats §8.2): ask for usage accounting, which
 * carries the call's cost. OpenRouter's own fields (`transforms`, `models`, `route`,
 * `provider`, `reasoning`, `plugins`) already pass through as OpenAI extras.
 */
export function adjustOpenRouterBody(body: Record<string, unknown>): string[] {
  body.usage = { include: true };
  return [];
}

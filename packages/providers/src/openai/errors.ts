import type { ProviderError } from '../errors.ts';
import { toUpstreamError } from '../http/upstream-error.ts';
import { openAIErrorBodySchema } from './wire.ts';

/** An OpenAI-format error response -> a ProviderError, by the rules of {@link toUpstreamError}. */
export function fromOpenAIError(
  provider: string,
  status: number,
  bodyText: string,
  headers: Record<string, string> = {},
): ProviderError {
  let vendorMessage: string | undefined;
  let vendorType: string | undefined;
  let vendorCode: string | undefined;
  let vendorParam: string | undefined;
  try {
    const parsed = openAIErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) {
      vendorMessage = parsed.data.error.message ?? undefined;
      vendorType = parsed.data.error.type ?? undefined;
      vendorCode = parsed.data.error.code != null ? String(parsed.data.error.code) : undefined;
      vendorParam = parsed.data.error.param ?? undefined;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep only the status.
  }
  return toUpstreamError(
    provider,
    status,
    { message: vendorMessage, type: vendorType, code: vendorCode, param: vendorParam },
    headers,
  );
}

/** An `{"error": {...}}` event inside an OpenAI stream -> a ProviderError. */
export function fromOpenAIStreamError(provider: string, payload: unknown): ProviderError {
  const parsed = openAIErrorBodySchema.safeParse(payload);
  const code = parsed.success ? parsed.data.error.code : undefined;
  const status = typeof code === 'number' ? code : Number(code) || 502;
  return {
    kind: 'upstream_error',
    provider,
    status: status >= 400 && status < 600 ? status : 502,
    message: `${provider} reported an error mid-stream`,
    retryable: false,
    ...(parsed.success && parsed.data.error.type ? { vendorType: parsed.data.error.type } : {}),
    ...(code != null ? { vendorCode: String(code) } : {}),
  };
}

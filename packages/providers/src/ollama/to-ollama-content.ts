import type { TextPart, UserPart } from '../canonical.ts';

/** Data URL -> the bare base64 Ollama wants in `images`; undefined for anything else. */
export function base64OfDataUrl(url: string): string | undefined {
  const match = /^data:[^,]*;base64,(.*)$/s.exec(url);
  return match?.[1];
}

/** Text parts -> one string, as Ollama messages carry plain text. */
export function joinText(parts: TextPart[]): string {
  return parts.map((p) => p.text).join('');
}

/**
 * Images travel as bare base64 in the message's `images`. Only `data:` URLs are sent: LiteLLM
 * downloads `https:` images itself, but fetching a caller-chosen URL from the gateway would let
 * a tenant make it request internal addresses, so those are dropped with a warning. LiteLLM
 * also re-encodes non-JPEG/PNG images as JPEG; we send them as they are (Ollama decodes
 * WebP and others itself, and refuses what it cannot read with a 400).
 */
export function imageBase64(url: string, warnings: string[]): string | undefined {
  const data = base64OfDataUrl(url);
  if (data === undefined) {
    warnings.push(url.startsWith('data:') ? 'image_url (data URL not base64)' : 'image_url (remote URL)');
  }
  return data;
}

/** A user message's parts -> its text and images; audio and non-image files are dropped. */
export function splitUserParts(parts: UserPart[], warnings: string[]): { text: string; images: string[] } {
  let text = '';
  const images: string[] = [];
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        text += part.text;
        break;
      case 'image': {
        const data = imageBase64(part.url, warnings);
        if (data !== undefined) images.push(data);
        break;
      }
      case 'file': {
        if (part.data?.startsWith('data:image/')) {
          const data = imageBase64(part.data, warnings);
          if (data !== undefined) images.push(data);
        } else warnings.push('file parts (not supported by Ollama)');
        break;
      }
      case 'audio':
        warnings.push('input_audio parts (not supported by Ollama)');
        break;
    }
  }
  return { text, images };
}

/** OpenAI's JSON-text arguments -> the object Ollama wants; anything else becomes `{}`. */
export function parseToolArguments(args: string, warnings: string[]): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  warnings.push('tool call arguments that are not a JSON object were sent as {}');
  return {};
}

import { describe, expect, it } from 'vitest';
import { checkClientApiBase } from './client-upstream.ts';

const allowlist = ['http://10.0.0.5:11434', 'https://vllm.internal/v1'];

describe('checkClientApiBase', () => {
  it('accepts URLs under an allowlisted prefix', () => {
    expect(checkClientApiBase('http://10.0.0.5:11434', allowlist).ok).toBe(true);
    expect(checkClientApiBase('https://vllm.internal/v1/', allowlist).ok).toBe(true);
  });

  it('refuses everything else, private networks included', () => {
    expect(checkClientApiBase('http://10.0.0.6:11434', allowlist)).toMatchObject({ ok: false });
    expect(checkClientApiBase('https://vllm.internal/admin', allowlist)).toMatchObject({ ok: false });
    expect(checkClientApiBase('https://vllm.internal.evil.com/v1', allowlist)).toMatchObject({ ok: false });
    expect(checkClientApiBase('file:///etc/passwd', allowlist)).toMatchObject({ ok: false });
    expect(checkClientApiBase('http://user:pw@10.0.0.5:11434', allowlist)).toMatchObject({ ok: false });
  });

  it('refuses cloud metadata addresses even when allowlisted', () => {
    for (const url of [
      'http://169.254.169.254/latest',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/',
    ]) {
      expect(checkClientApiBase(url, [url])).toMatchObject({
        ok: false,
        reason: 'points at a cloud metadata address',
      });
    }
  });
});

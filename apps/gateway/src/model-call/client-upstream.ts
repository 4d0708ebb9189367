import { isIP } from 'node:net';

/** Cloud metadata endpoints: never reachable through a caller-chosen base URL, whatever the config says. */
const METADATA_HOSTS = new Set([
  '169.254.169.254',
  'fd00:ec2::254',
  'metadata.google.internal',
  'metadata',
  '100.100.100.200',
]);

function isMetadataHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // The whole IPv4 link-local range holds metadata services on several clouds.
  return METADATA_HOSTS.has(host) || (isIP(host) === 4 && host.startsWith('169.254.'));
}

export type ClientApiBaseCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Whether a base URL a caller put in the body may be used: an http(s) URL that starts with one
 * of the operator's allowlisted prefixes and is not a cloud metadata address. The allowlist is
 * what keeps callers off private networks: only what the operator named is reachable.
 */
export function checkClientApiBase(value: string, allowlist: string[]): ClientApiBaseCheck {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'must be http or https' };
  if (url.username || url.password) return { ok: false, reason: 'may not carry credentials' };
  if (isMetadataHost(url.hostname)) return { ok: false, reason: 'points at a cloud metadata address' };
  const normalized = url.toString();
  const allowed = allowlist.some((prefix) => {
    try {
      const base = new URL(prefix);
      return url.origin === base.origin && normalized.startsWith(base.toString().replace(/\/$/, ''));
    } catch {
      return false;
    }
  });
  return allowed
    ? { ok: true, url }
    : { ok: false, reason: 'is not in the operator allowlist (client_api_base_allowlist)' };
}

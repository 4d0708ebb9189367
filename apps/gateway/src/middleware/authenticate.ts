import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { authDatabaseUnavailable, GatewayHttpError } from '../errors.ts';
import type { KeyRecord } from '../lookups/lookups.ts';
import { displayKeyName, maskKey } from '../lookups/virtual-key.ts';
import { clientRequest } from './client-request.ts';

const SCHEME_PREFIX = /^(Bearer|bearer|Basic)\s+/;
const WELL_FORMED_AUTHORIZATION = /^(Bearer|bearer|Basic) \S/;

/** `Bearer x`, `bearer x`, `Basic x` or a bare key -> the key. */
function stripScheme(value: string): string {
  return value.replace(SCHEME_PREFIX, '').trim();
}

/**
 * The presented key, from the first non-empty source in LiteLLM's order (contract §1.1):
 * `x-litellm-api-key`, `Authorization`, `API-Key`, `x-api-key`, `x-goog-api-key`,
 * `Ocp-Apim-Subscription-Key`.
 */
export function readPresentedKey(headers: Pick<Headers, 'get'>): string | undefined {
  const litellm = headers.get('x-litellm-api-key');
  if (litellm) return stripScheme(litellm);
  const authorization = headers.get('authorization');
  if (authorization) {
    if (!WELL_FORMED_AUTHORIZATION.test(authorization)) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: 'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.',
      });
    }
    return stripScheme(authorization);
  }
  for (const name of ['api-key', 'x-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key']) {
    const value = headers.get(name);
    if (value) return value.trim();
  }
  return undefined;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Authenticates the caller as the master key (constant-time comparison) or a virtual key
 * found by its hash, in the contract's order: exists, not blocked, not expired (§1.5).
 * Model access is checked by the model routes, which know the model.
 */
export function authenticate(deps: Pick<AppDeps, 'masterKeyHash' | 'lookups'>): MiddlewareHandler<AppEnv> {
  const masterDigest = Buffer.from(deps.masterKeyHash, 'hex');
  return async function authenticateMiddleware(c, next) {
    const presented = readPresentedKey(clientRequest(c).headers);
    if (!presented) throw new GatewayHttpError({ kind: 'unauthenticated', message: 'No api key passed in.' });
    const event = c.get('event');
    const digest = sha256(presented);
    if (timingSafeEqual(digest, masterDigest)) {
      c.set('caller', { kind: 'master', keyHash: deps.masterKeyHash });
      event.keyHash = deps.masterKeyHash;
      return next();
    }
    if (!presented.startsWith('sk-')) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: `LiteLLM Virtual Key expected. Received=${maskKey(presented)}, expected to start with 'sk-'.`,
      });
    }
    const tokenHash = digest.toString('hex');
    let key: KeyRecord | undefined;
    try {
      key = await deps.lookups.keys.get(tokenHash);
    } catch {
      throw new GatewayHttpError(authDatabaseUnavailable);
    }
    const now = Date.now();
    // An old key past its regeneration grace period is as unknown as any other.
    if (!key || (key.validUntilMs !== null && key.validUntilMs <= now)) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: `Authentication Error, Invalid proxy server token passed. Received API Key = ${displayKeyName(presented)}, Key Hash (Token) =${tokenHash}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
      });
    }
    if (key.blocked) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
      });
    }
    if (key.expiresAtMs !== null && key.expiresAtMs < now) {
      throw new GatewayHttpError({
        kind: 'unauthenticated',
        type: 'expired_key',
        message: `Authentication Error - Expired Key. Key Expiry time ${new Date(key.expiresAtMs).toISOString()} and current time ${new Date(now).toISOString()}`,
      });
    }
    c.set('caller', { kind: 'virtual', key });
    event.keyHash = key.tokenHash;
    event.keyAlias = key.keyAlias;
    event.userId = key.userId;
    event.teamId = key.teamId;
    event.organizationId = key.organizationId;
    return next();
  };
}

/** Admin routes: the master key only (virtual keys get 403). */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function requireAdminMiddleware(c, next) {
    if (c.get('caller').kind !== 'master') {
      throw new GatewayHttpError({
        kind: 'forbidden',
        message: 'Admin-only endpoint. Not allowed to access this.',
      });
    }
    return next();
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks a webhook token against every accepted secret (two during rotation) in constant time:
 * both sides are hashed to 32 bytes, so timingSafeEqual always compares equal lengths and the time
 * taken says nothing about the secret's length or content. Every secret is compared, match or not.
 */
export function createTokenMatcher(secrets: readonly string[]): (token: unknown) => boolean {
  const digests = secrets.map(sha256);
  return (token) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 1024 || digests.length === 0) return false;
    const given = sha256(token);
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(given, digest) || ok;
    return ok;
  };
}

/** A short, non-reversible label of a secret, stored with a registration to tell which secret it carries. */
export const secretFingerprint = (secret: string): string => sha256(secret).toString('hex').slice(0, 12);

/** Adds `token=<secret>` to a callback URL. */
export function withToken(callbackUrl: string, secret: string): string {
  const url = new URL(callbackUrl);
  url.searchParams.set('token', secret);
  return url.toString();
}

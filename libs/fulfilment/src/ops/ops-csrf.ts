import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a page's forms stay valid. */
const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;

/**
 * The console's CSRF tokens: `<issued, seconds>.<HMAC-SHA256(key, operator + issued)>`, put in
 * every form the console renders and required on every POST. Stateless (no cookie, no session):
 * a token is tied to the operator the host's guard named, so another site, which cannot compute
 * the HMAC, cannot make the browser post an action with the operator's credentials, and a token
 * one operator saw is worth nothing to another.
 */
export class OpsCsrf {
  constructor(
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {}

  issue(actor: string): string {
    const issued = Math.floor(this.now() / 1000).toString(36);
    return `${issued}.${this.mac(actor, issued)}`;
  }

  verify(actor: string, token: unknown): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const [issued, mac, ...rest] = token.split('.');
    if (!issued || !mac || rest.length > 0) return false;
    const age = this.now() - parseInt(issued, 36) * 1000;
    if (!(age >= -60_000 && age <= TOKEN_LIFETIME_MS)) return false;
    const expected = Buffer.from(this.mac(actor, issued));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(actor: string, issued: string): string {
    return createHmac('sha256', this.key).update(`${actor}\n${issued}`).digest('base64url');
  }
}

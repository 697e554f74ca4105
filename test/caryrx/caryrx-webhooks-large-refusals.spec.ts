import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { TEST_ADAPTERS } from '../support/test-app.js';
import { SECRET, startCaryRx, webhookUrl, type CaryRxTestContext } from './support.js';

/** POSTs a `size`-byte JSON body with fetch (as providers' and hosts' clients do) and reads the answer (0: none, the connection was reset). */
async function postLarge(url: string, size: number): Promise<number> {
  const body = Buffer.from(JSON.stringify({ id: 'big', order_status: 'shipped', filler: 'f'.repeat(size) }));
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A refusal (wrong token, too large) is answered before the body has arrived. The client is still
 * writing it; the answer must reach it rather than a connection reset (seen as "no answer" by the
 * host matrix under load): the rest of the body is read and discarded before the connection closes.
 */
describe.each(TEST_ADAPTERS)('CaryRx webhooks on %s: large refused bodies get their answer', (adapter) => {
  let ctx: CaryRxTestContext;

  beforeAll(async () => {
    ctx = await startCaryRx({}, { adapter });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('8 MB without a token: 401, every time; 8 MB with the token: 413, every time', async () => {
    const unauthorized = await Promise.all(Array.from({ length: 4 }, () => postLarge(webhookUrl(ctx.t, 'orders', null), 8_000_000)));
    const tooLarge = await Promise.all(Array.from({ length: 4 }, () => postLarge(webhookUrl(ctx.t, 'orders', SECRET), 8_000_000)));
    expect({ unauthorized, tooLarge }).toEqual({ unauthorized: Array(4).fill(401), tooLarge: Array(4).fill(413) });
  });
});

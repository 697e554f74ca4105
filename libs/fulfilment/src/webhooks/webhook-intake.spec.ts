import { describe, expect, it } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { WebhookIntake, isJsonContentType, tokenOf } from './webhook-intake.js';

const SECRET = 'intake-secret-0123456789';
const intake = new WebhookIntake({ webhooks: { secrets: [SECRET], maxBodyBytes: 1024 } } as ResolvedFulfilmentOptions);
const head = (headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': '2' }) => ({ url: `/hook?token=${SECRET}`, headers });
const statusOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as HttpException).getStatus();
  }
};

describe('webhook intake rules', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON; Charset="UTF-8"', true],
    ['application/problem+json', true],
    ['application/vnd.caryrx.v1+json; charset=utf8', true],
    ['application/json; charset=iso-8859-1', false],
    ['application/jsonx', false],
    ['application/json-seq', false],
    ['text/json', false],
    ['text/plain', false],
    ['application/x-www-form-urlencoded', false],
    ['', false],
  ])('content type %j is JSON: %s', (type, json) => {
    expect(isJsonContentType(type)).toBe(json);
  });

  it.each([
    ['/h?token=abc', 'abc'],
    ['/h?a=1&token=a%20b', 'a b'],
    ['/h?token=a&token=a', undefined],
    ['/h?token[]=a', undefined],
    ['/h?TOKEN=a', undefined],
    ['/h', undefined],
    [undefined, undefined],
  ])('the token of %j is %j', (url, token) => {
    expect(tokenOf(url)).toBe(token);
  });

  it('screens the token first, then the content type, then the declared size', () => {
    expect(intake.screen({ url: '/hook?token=wrong', headers: { 'content-type': 'text/plain', 'content-length': '9999' } })?.getStatus()).toBe(401);
    expect(intake.screen(head({ 'content-type': 'text/plain', 'content-length': '9999' }))?.getStatus()).toBe(415);
    expect(intake.screen(head({ 'content-length': '5' }))?.getStatus()).toBe(415);
    expect(intake.screen(head({ 'content-type': 'application/json', 'content-encoding': 'gzip' }))?.getStatus()).toBe(415);
    expect(intake.screen(head({ 'content-type': 'application/json', 'content-length': '1025' }))?.getStatus()).toBe(413);
    // No content type is right for an empty body, which is then a 400 (not an object).
    expect(intake.screen(head({ 'content-length': '0' }))).toBeUndefined();
  });

  it('caps a streamed body at maxBodyBytes and parses what fits', async () => {
    const take = (chunks: string[]) => intake.take(head({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), Readable.from(chunks.map((c) => Buffer.from(c))));
    await expect(take(['{"id":', '"x"}'])).resolves.toEqual({ id: 'x' });
    await expect(take(['{"p":"', 'x'.repeat(1024), '"}'])).rejects.toMatchObject({ status: 413 });
    await expect(take(['{"id":'])).rejects.toMatchObject({ status: 400, response: { fields: [{ path: '(body)' }] } });
  });

  it('applies the same rules to a body a parser ahead of it already read', () => {
    expect(intake.accept(head(), { id: 'x' })).toEqual({ id: 'x' });
    expect(statusOf(() => intake.accept(head(), { p: 'x'.repeat(1024) }))).toBe(413);
    expect(statusOf(() => intake.accept(head(), { id: 'x' }, 2048))).toBe(413);
    expect(statusOf(() => intake.accept(head(), 'a string'))).toBe(400);
    expect(statusOf(() => intake.accept(head({ 'content-type': 'application/x-www-form-urlencoded' }), { id: 'x' }))).toBe(415);
    expect(statusOf(() => intake.accept(head(), JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40))))).toBe(400);
  });
});

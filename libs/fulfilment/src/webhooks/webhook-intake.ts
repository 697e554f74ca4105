import {
  Inject,
  Injectable,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type HttpException,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { MAX_INPUT_DEPTH, tooDeepPath } from '../validation.js';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { invalidWebhookBody } from './webhook-body.js';
import { createTokenMatcher } from './webhook-secrets.js';

/** What the intake needs of a request before its body: the raw URL (query included) and the headers. */
export interface WebhookRequestHead {
  url?: string;
  headers: IncomingHttpHeaders;
}

/** `application/json` or a structured `+json` type (RFC 6839), e.g. `application/problem+json`. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

/** JSON is UTF-8 (RFC 8259 §8.1): a charset parameter, if given, must say so. */
export function isJsonContentType(value: string): boolean {
  const [mediaType, ...params] = value.split(';');
  if (!JSON_MEDIA_TYPE.test(mediaType.trim().toLowerCase())) return false;
  return params.every((param) => {
    const [name, charset = ''] = param.split('=');
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-?8"?$/i.test(charset.trim());
  });
}

/**
 * The `token` query parameter, read from the raw URL so every adapter sees the same value
 * whatever its query parser. None, or more than one, is no token.
 */
export function tokenOf(url: string | undefined): string | undefined {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  const tokens = new URLSearchParams(url!.slice(query + 1)).getAll('token');
  return tokens.length === 1 ? tokens[0] : undefined;
}

/** The intake's refusals (the OpenAPI description shows these very bodies as its examples). */
export const WEBHOOK_REFUSALS = {
  unauthorized: () => new UnauthorizedException('invalid or missing webhook token'),
  unsupportedMediaType: () => new UnsupportedMediaTypeException('webhook body must be uncompressed JSON (content-type application/json)'),
  tooLarge: (maxBytes: number) => new PayloadTooLargeException(`webhook body exceeds ${maxBytes} bytes`),
  // Fixed texts: never the URL, which carries the token.
  notFound: () => new NotFoundException('no webhook route here'),
  methodNotAllowed: () => new MethodNotAllowedException('webhook routes accept only POST'),
};

const bodyError = (message: string, path: string, rule: string) => invalidWebhookBody([{ path, message: rule }], message);

/** Buffers a body up to `max` bytes; past that, stops keeping it and fails with `tooLarge()`. */
function readCapped(stream: Readable, max: number, tooLarge: () => HttpException): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (fn: () => void) => {
      stream.off('data', onData).off('end', onEnd).off('error', onCutShort).off('close', onCutShort);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      // Whatever else arrives is discarded, not kept; the answer closes the connection.
      settle(() => reject(tooLarge()));
      stream.resume();
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    // The client went away (or the stream failed) before the end of the body.
    const onCutShort = () => settle(() => reject(bodyError('body was not received completely', '(body)', 'was cut short')));
    stream.on('data', onData).on('end', onEnd).on('error', onCutShort).on('close', onCutShort);
    // Flowing even if someone paused it before.
    stream.resume();
  });
}

/**
 * The webhook routes' admission rules, the same whichever HTTP adapter serves them:
 * 1. the `token` query parameter must match one of `webhooks.secrets` (constant-time) → else 401,
 *    whatever the body;
 * 2. the body must be JSON: `application/json` or `application/*+json`, UTF-8, not compressed; no
 *    content type is only right for an empty body → else 415;
 * 3. the body must fit `webhooks.maxBodyBytes`, by its declared and by its actual size → else 413;
 * 4. it must parse as JSON, be an object and nest no deeper than MAX_INPUT_DEPTH → else 400 naming
 *    `(body)` or the too-deep path.
 * 1–3 are decided before a byte of the body is read, and it is never held beyond the cap.
 */
@Injectable()
export class WebhookIntake {
  private readonly matches: (token: unknown) => boolean;
  private readonly maxBytes: number;

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedFulfilmentOptions) {
    this.matches = createTokenMatcher(options.webhooks.secrets);
    this.maxBytes = options.webhooks.maxBodyBytes;
  }

  /** Rules 1–3 on the request line and headers: the refusal, or undefined. */
  screen({ url, headers }: WebhookRequestHead): HttpException | undefined {
    if (!this.matches(tokenOf(url))) return WEBHOOK_REFUSALS.unauthorized();
    const type = headers['content-type'];
    const encoding = headers['content-encoding'];
    const declared = Number(headers['content-length']);
    const hasBody = headers['transfer-encoding'] !== undefined || declared > 0;
    const encoded = encoding !== undefined && encoding.trim().toLowerCase() !== 'identity';
    if (encoded || (type === undefined ? hasBody : !isJsonContentType(type))) {
      return WEBHOOK_REFUSALS.unsupportedMediaType();
    }
    if (declared > this.maxBytes) return this.tooLarge();
    return undefined;
  }

  /** All four rules, for a body nobody has read yet: reads `body` (the request stream) and returns the parsed object. */
  async take(head: WebhookRequestHead, body: Readable): Promise<object> {
    const refusal = this.screen(head);
    if (refusal) throw refusal;
    const raw = await readCapped(body, this.maxBytes, () => this.tooLarge());
    let parsed: unknown;
    try {
      parsed = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      throw bodyError('body is not valid JSON', '(body)', 'must be valid JSON');
    }
    return this.shaped(parsed);
  }

  /**
   * All four rules, for a body a parser ahead of the module already read (an adapter the module
   * cannot get in front of): the size is the raw body's when known, else its JSON's.
   */
  accept(head: WebhookRequestHead, body: unknown, rawBytes?: number): object {
    const refusal = this.screen(head);
    if (refusal) throw refusal;
    // Depth first: a hostile nesting depth would overflow JSON.stringify.
    this.shallow(body);
    const size = rawBytes ?? (body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body)));
    if (size > this.maxBytes) throw this.tooLarge();
    return this.anObject(body);
  }

  private shaped(body: unknown): object {
    this.shallow(body);
    return this.anObject(body);
  }

  private anObject(body: unknown): object {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bodyError('body must be a JSON object', '(body)', 'must be a JSON object');
    return body;
  }

  private shallow(body: unknown): void {
    const deep = tooDeepPath(body);
    const message = `must not nest deeper than ${MAX_INPUT_DEPTH} levels`;
    if (deep) throw bodyError(`${deep} ${message}`, deep, message);
  }

  private tooLarge(): PayloadTooLargeException {
    return WEBHOOK_REFUSALS.tooLarge(this.maxBytes);
  }
}

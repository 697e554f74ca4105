import {
  BadRequestException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { MAX_INPUT_DEPTH, tooDeepPath } from '../validation.js';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { ProviderName } from '../http/provider-errors.js';
import { createTokenMatcher } from './webhook-secrets.js';

export interface WebhookSourceInfo {
  provider: ProviderName;
  /** Inbox topic, e.g. `caryrx.order`. */
  topic: string;
}

const WEBHOOK_SOURCE = 'fulfilment:webhook-source';
/** Where the guard leaves the source on the request, for the exception filter. */
export const WEBHOOK_REQUEST_SOURCE = Symbol('fulfilment.webhookSource');

/** Names the provider and inbox topic of a webhook controller (for rejection events and the inbox). */
export const WebhookSource = (provider: ProviderName, topic: string): ClassDecorator =>
  SetMetadata(WEBHOOK_SOURCE, { provider, topic } satisfies WebhookSourceInfo);

type WebhookRequest = IncomingMessage & {
  query?: Record<string, unknown>;
  body?: unknown;
  rawBody?: Buffer;
  [WEBHOOK_REQUEST_SOURCE]?: WebhookSourceInfo;
};

/**
 * The front door of every webhook route, before any body is looked at:
 * 1. the `token` query parameter must match one of `webhooks.secrets` (constant-time) → else 401;
 * 2. the body must fit `webhooks.maxBodyBytes`, by its declared and its actual size → else 413;
 * 3. the body must be a JSON object → else 400. When the host's JSON parser did not run (disabled,
 *    or another content type) the body is read and parsed here, with the same cap.
 */
@Injectable()
export class WebhookTokenGuard implements CanActivate {
  private readonly matches: (token: unknown) => boolean;
  private readonly maxBytes: number;

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedFulfilmentOptions) {
    this.matches = createTokenMatcher(options.webhooks.secrets);
    this.maxBytes = options.webhooks.maxBodyBytes;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<WebhookRequest>();
    const source = Reflect.getMetadata(WEBHOOK_SOURCE, context.getClass()) as WebhookSourceInfo | undefined;
    if (source) req[WEBHOOK_REQUEST_SOURCE] = source;

    if (!this.matches(req.query?.token)) throw new UnauthorizedException('invalid or missing webhook token');

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) throw this.tooLarge();

    // The host's JSON parser did not run: read the body here (readBody enforces the cap).
    const readHere = req.body === undefined && req.readable && !req.readableEnded;
    if (readHere) req.body = this.parse(await this.readBody(req));
    const deep = tooDeepPath(req.body);
    if (deep) throw this.tooDeep(deep);
    if (!readHere) {
      // Measured after the depth check: a hostile nesting depth would overflow JSON.stringify.
      const actual = req.rawBody?.length ?? (req.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(req.body)));
      if (actual > this.maxBytes) throw this.tooLarge();
    }
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      throw new BadRequestException({ statusCode: 400, message: 'body must be a JSON object', fields: [{ path: '(body)', messages: ['must be a JSON object'] }] });
    }
    return true;
  }

  private tooDeep(path: string): BadRequestException {
    const message = `must not nest deeper than ${MAX_INPUT_DEPTH} levels`;
    return new BadRequestException({ statusCode: 400, message: `${path} ${message}`, fields: [{ path, messages: [message] }] });
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException(`webhook body exceeds ${this.maxBytes} bytes`);
  }

  private async readBody(req: WebhookRequest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.maxBytes) {
        req.resume();
        throw this.tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private parse(raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequestException({ statusCode: 400, message: 'body is not valid JSON', fields: [{ path: '(body)', messages: ['must be valid JSON'] }] });
    }
  }
}

import { Logger, type OnModuleInit } from '@nestjs/common';
import type { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { WebhookIntake, WebhookRequestHead } from './webhook-intake.js';
import type { WebhookResponder } from './webhook-responder.js';
import type { WebhookRoute, WebhookSourceInfo } from './webhook-routes.js';

/** Set on a request the front door admitted: its body is parsed and every intake rule passed. */
export const WEBHOOK_ADMITTED = Symbol('fulfilment.webhookAdmitted');

/** Where the Fastify hook keeps a request's headers while Fastify is shown none of a body. */
const SAVED_HEADERS = Symbol('fulfilment.webhookHeaders');

export type AdmittedRequest = { body?: unknown; [WEBHOOK_ADMITTED]?: true };

// The little of express and Fastify used here, so that neither is a dependency of the module.
interface ExpressLayer {
  name?: string;
  route?: { path?: unknown };
}
interface ExpressApp {
  post(path: string, handler: (req: IncomingMessage & AdmittedRequest, res: unknown, next: () => void) => void): unknown;
  router: { stack: ExpressLayer[] };
}
type FastifyRequest = AdmittedRequest & {
  raw: IncomingMessage;
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  routeOptions?: { url?: string };
  [SAVED_HEADERS]?: IncomingHttpHeaders;
};
type Done = (err: Error | null, payload?: Readable) => void;
interface FastifyApp {
  hasRoute(route: { method: string; url: string }): boolean;
  addHook(name: 'preParsing', hook: (request: FastifyRequest, reply: unknown, payload: Readable, done: Done) => void): unknown;
  addHook(name: 'preValidation', hook: (request: FastifyRequest, reply: unknown, done: () => void) => void): unknown;
}

/** body-parser's middleware names (Nest's own parsers are found by the same names). */
const EXPRESS_BODY_PARSERS = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);
/** What Fastify is shown once the body is read: nothing left to parse. */
const NO_BODY_LEFT: IncomingHttpHeaders = { 'content-type': undefined, 'content-length': '0', 'transfer-encoding': undefined };

const joinPath = (...parts: string[]): string => `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

/**
 * Puts the webhook intake (WebhookIntake) ahead of whatever would read a webhook's body, so both
 * adapters decide the same way before a byte of it is read (401 whatever the body; 415 and 413
 * before buffering; malformed JSON in the module's own 400) and never hold more than
 * `maxBodyBytes`, whatever the host's parser limits:
 * - express: a route for each webhook path, moved in front of the body parsers (app-level
 *   middleware that Nest registers before any module's middleware); the host's own `app.use()`
 *   middleware still runs first;
 * - Fastify: a `preParsing` hook on the webhook routes (after every `onRequest` hook and Nest
 *   middleware), which reads the body itself and tells Fastify there is none left to parse, so
 *   neither its body limit nor its content-type parsers apply.
 * On another adapter, or a route Nest serves elsewhere (URI versioning), the guard applies the same
 * rules to what reaches it. Installed when the app initialises: routes are registered by then,
 * and Fastify is not yet ready.
 */
export class WebhookFrontDoor implements OnModuleInit {
  private readonly logger = new Logger('Fulfilment:Webhooks');

  constructor(
    private readonly routes: WebhookRoute[],
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
    private readonly intake: WebhookIntake,
    private readonly responder: WebhookResponder,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // An application context without an HTTP server serves no webhooks.
    if (!adapter) return;
    const type = adapter.getType();
    if (type === 'express') this.onExpress(adapter.getInstance<ExpressApp>());
    else if (type === 'fastify') this.onFastify(adapter.getInstance<FastifyApp>());
  }

  /**
   * Each route's full path as Nest serves it: under the global prefix, or not when the prefix
   * excludes it. A route served neither way (URI versioning) is left to the guard.
   */
  private servedRoutes(served: (path: string) => boolean): Map<string, WebhookSourceInfo> {
    const routes = new Map<string, WebhookSourceInfo>();
    for (const { path, source } of this.routes) {
      const full = [joinPath(this.config.getGlobalPrefix(), path), joinPath(path)].find(served);
      if (full) routes.set(full, source);
      else this.logger.warn(`no webhook route at POST ${joinPath(this.config.getGlobalPrefix(), path)}: its bodies are read by the app's body parser and checked by the guard`);
    }
    return routes;
  }

  private onExpress(app: ExpressApp): void {
    const stack = app.router.stack;
    const nestRoute = (path: string) => stack.findIndex((layer) => layer.route?.path === path);
    for (const [path, source] of this.servedRoutes((path) => nestRoute(path) >= 0)) {
      app.post(path, (req, res, next) => {
        this.admit(req, req).then(() => next(), (err: unknown) => this.responder.answer(res, req, source, err));
      });
      const layer = stack.pop()!;
      const parser = stack.findIndex((l) => l.name !== undefined && EXPRESS_BODY_PARSERS.has(l.name));
      const route = nestRoute(path);
      stack.splice(parser >= 0 && parser < route ? parser : route, 0, layer);
    }
  }

  private onFastify(app: FastifyApp): void {
    const routes = this.servedRoutes((url) => app.hasRoute({ method: 'POST', url }));
    app.addHook('preParsing', (request, reply, payload, done) => {
      const source = request.method === 'POST' ? routes.get(request.routeOptions?.url ?? '') : undefined;
      if (!source) return done(null, payload);
      this.admit(request, payload).then(
        () => {
          // The raw request keeps its headers; the handler gets them back in preValidation.
          request[SAVED_HEADERS] = request.headers;
          request.headers = { ...request.headers, ...NO_BODY_LEFT };
          done(null, payload);
        },
        // Answered here: the route's lifecycle ends with the reply.
        (err: unknown) => this.responder.answer(reply, request.raw, source, err),
      );
    });
    app.addHook('preValidation', (request, _reply, done) => {
      const saved = request[SAVED_HEADERS];
      if (saved) request.headers = saved;
      done();
    });
  }

  /** Runs the intake on `body` (the unread request stream) and leaves the parsed object on `request`. */
  private async admit(request: AdmittedRequest & WebhookRequestHead, body: Readable): Promise<void> {
    request.body = await this.intake.take(request, body);
    request[WEBHOOK_ADMITTED] = true;
  }
}

import { Logger, type OnModuleInit } from '@nestjs/common';
import type { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { WEBHOOK_REFUSALS, type WebhookIntake, type WebhookRequestHead } from './webhook-intake.js';
import type { WebhookResponder } from './webhook-responder.js';
import type { WebhookRoute, WebhookSourceInfo } from './webhook-routes.js';

/** Set on a request the front door admitted: its body is parsed and every intake rule passed. */
export const WEBHOOK_ADMITTED = Symbol('fulfilment.webhookAdmitted');

/** Where the Fastify hook keeps a request's headers while Fastify is shown none of a body. */
const SAVED_HEADERS = Symbol('fulfilment.webhookHeaders');

export type AdmittedRequest = { body?: unknown; [WEBHOOK_ADMITTED]?: true };

// The little of express and Fastify used here, so that neither is a dependency of the module.
type ExpressHandler = (req: IncomingMessage & AdmittedRequest, res: unknown, next: () => void) => void;
interface ExpressLayer {
  name?: string;
  route?: { path?: unknown };
  /** The router's own path matching (used only for host routes under the webhook prefix). */
  match?(path: string): unknown;
}
interface ExpressApp {
  all(path: string, handler: ExpressHandler): unknown;
  use(handler: ExpressHandler): unknown;
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

/** A webhook route as the app serves it: full path, full webhook prefix (lower case), source. */
interface ServedRoute {
  path: string;
  prefix: string;
  source: WebhookSourceInfo;
}

/** body-parser's middleware names (Nest's own parsers are found by the same names). */
const EXPRESS_BODY_PARSERS = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);
/** What Fastify is shown once the body is read: nothing left to parse. */
const NO_BODY_LEFT: IncomingHttpHeaders = { 'content-type': undefined, 'content-length': '0', 'transfer-encoding': undefined };

const joinPath = (...parts: string[]): string => `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
const pathOf = (url: string | undefined): string => (url ?? '/').split('?', 1)[0];

/** Whether `path` is one of the webhook prefixes or under one (case-insensitive, as express matches by default). */
function underPrefix(path: string, routes: ServedRoute[]): boolean {
  const lower = path.toLowerCase();
  return routes.some(({ prefix }) => lower === prefix || lower.startsWith(`${prefix}/`));
}

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
 * Everything else under the webhook prefix (`{routePrefix}/webhooks`) is answered here too, before
 * any body is read and with a fixed message (the URL carries the token): another method on a
 * webhook path is 405 (`Allow: POST`), any other path 404, unless a host route serves it.
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
   * Each route's full path (and its prefix) as Nest serves it: under the global prefix, or not when
   * the prefix excludes it. A route served neither way (URI versioning) is left to the guard.
   */
  private servedRoutes(served: (path: string) => boolean): ServedRoute[] {
    const global = this.config.getGlobalPrefix();
    const routes: ServedRoute[] = [];
    for (const { path, prefix, source } of this.routes) {
      const root = [global, ''].find((root) => served(joinPath(root, path)));
      if (root !== undefined) routes.push({ path: joinPath(root, path), prefix: joinPath(root, prefix).toLowerCase(), source });
      else this.logger.warn(`no webhook route at POST ${joinPath(global, path)}: its bodies are read by the app's body parser and checked by the guard`);
    }
    return routes;
  }

  /** 405 on a webhook path (any method but POST), 404 elsewhere under the prefix: fixed bodies, nothing logged. */
  private refuse(response: unknown, request: IncomingMessage, webhookPath: boolean): void {
    if (webhookPath) this.responder.answer(response, request, undefined, WEBHOOK_REFUSALS.methodNotAllowed(), { allow: 'POST' });
    else this.responder.answer(response, request, undefined, WEBHOOK_REFUSALS.notFound());
  }

  private onExpress(app: ExpressApp): void {
    const stack = app.router.stack;
    const nestRoute = (path: string) => stack.findIndex((layer) => layer.route?.path === path);
    const routes = this.servedRoutes((path) => nestRoute(path) >= 0);
    if (routes.length === 0) return;
    // Host routes under the prefix stay the host's.
    const hostRoutes = stack.filter(({ route }) => typeof route?.path === 'string' && underPrefix(route.path, routes) && !routes.some((r) => r.path === route.path));
    const firstRoute = Math.min(...routes.map((r) => nestRoute(r.path)));
    const added = stack.length;
    for (const { path, source } of routes) {
      // All methods, matched as express matches Nest's POST route (case, trailing slash).
      app.all(path, (req, res, next) => {
        if (req.method !== 'POST') return this.refuse(res, req, true);
        this.admit(req, req).then(() => next(), (err: unknown) => this.responder.answer(res, req, source, err));
      });
    }
    app.use((req, res, next) => {
      const path = pathOf(req.url);
      if (req[WEBHOOK_ADMITTED] || !underPrefix(path, routes) || hostRoutes.some((layer) => layer.match?.(path))) return next();
      this.refuse(res, req, false);
    });
    // Moved in front of the body parsers (or of the first webhook route, if that comes first).
    const ours = stack.splice(added);
    const parser = stack.findIndex((l) => l.name !== undefined && EXPRESS_BODY_PARSERS.has(l.name));
    stack.splice(parser >= 0 && parser < firstRoute ? parser : firstRoute, 0, ...ours);
  }

  private onFastify(app: FastifyApp): void {
    const routes = this.servedRoutes((url) => app.hasRoute({ method: 'POST', url }));
    if (routes.length === 0) return;
    const sources = new Map(routes.map((r) => [r.path, r.source]));
    app.addHook('preParsing', (request, reply, payload, done) => {
      // Fastify has routed the request already: undefined when no route (of any method) matched.
      const matched = request.routeOptions?.url;
      const path = matched ?? pathOf(request.url);
      const source = sources.get(path);
      if (source && request.method === 'POST' && matched) {
        // Not returned: Fastify would take a returned promise for a second `done`.
        void this.admit(request, payload).then(
          () => {
            // The raw request keeps its headers; the handler gets them back in preValidation.
            request[SAVED_HEADERS] = request.headers;
            request.headers = { ...request.headers, ...NO_BODY_LEFT };
            done(null, payload);
          },
          // Answered here: the route's lifecycle ends with the reply.
          (err: unknown) => this.responder.answer(reply, request.raw, source, err),
        );
        return;
      }
      if (source) return this.refuse(reply, request.raw, true);
      if (matched || !underPrefix(path, routes)) return done(null, payload);
      this.refuse(reply, request.raw, false);
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

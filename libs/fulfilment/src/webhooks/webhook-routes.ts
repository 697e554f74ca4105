import { Controller, SetMetadata, type Provider, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { DEFAULT_ROUTE_PREFIX, type ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ProviderName } from '../http/provider-errors.js';
import { describeWebhookRoutes } from './webhook-openapi.js';
import { WebhookFrontDoor } from './webhook-front-door.js';
import { WebhookIntake } from './webhook-intake.js';
import { WebhookResponder } from './webhook-responder.js';
import { WebhookActivity } from './webhook-activity.js';

const WEBHOOK_SUBPATH = 'fulfilment:webhook-subpath';
const WEBHOOK_SOURCE = 'fulfilment:webhook-source';
export const WEBHOOK_ROUTES = Symbol('FULFILMENT_WEBHOOK_ROUTES');
const WEBHOOK_OPENAPI = Symbol('FULFILMENT_WEBHOOK_OPENAPI');

export interface WebhookSourceInfo {
  provider: ProviderName;
  /** Inbox topic, e.g. `caryrx.order`. */
  topic: string;
}

/** A webhook route: its path (no global prefix), the module's webhook prefix it sits under, and what it receives. */
export interface WebhookRoute {
  path: string;
  /** `{routePrefix}/webhooks`: every other path under it is answered by the module (404). */
  prefix: string;
  source: WebhookSourceInfo;
}

/**
 * Marks a webhook controller served under `/{routePrefix}/webhooks/{subPath}`.
 * The prefix comes from the module options, which forRootAsync only knows once DI runs: see
 * bindWebhookControllers.
 */
export function WebhookController(subPath: string): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(WEBHOOK_SUBPATH, subPath, target);
    Controller(`${DEFAULT_ROUTE_PREFIX}/webhooks/${subPath}`)(target);
  };
}

/** Names the provider and inbox topic of a webhook controller (for rejection events and the inbox). */
export const WebhookSource = (provider: ProviderName, topic: string): ClassDecorator =>
  SetMetadata(WEBHOOK_SOURCE, { provider, topic } satisfies WebhookSourceInfo);

export const webhookSourceOf = (controller: Type | Function): WebhookSourceInfo | undefined =>
  Reflect.getMetadata(WEBHOOK_SOURCE, controller) as WebhookSourceInfo | undefined;

export const webhookPath = (routePrefix: string, subPath: string): string => `${routePrefix}/webhooks/${subPath}`;

/**
 * Nest reads controller paths when the app initialises, after every provider was built. Each
 * forRoot/forRootAsync call gets its own subclasses of the webhook controllers, and a provider
 * that runs once the options are resolved sets their path. Own subclasses keep two apps in one
 * process (tests, replicas) from sharing a prefix. The other providers are the routes' OpenAPI
 * description (`openApi: false` leaves them out of the host's document), their intake (checks and
 * body reading) and the front door that puts it ahead of the adapter's body parsers.
 */
export function bindWebhookControllers(controllers: Type[], { openApi }: { openApi: boolean }): { controllers: Type[]; providers: Provider[] } {
  const bound = controllers.map((base) => {
    const subPath = Reflect.getMetadata(WEBHOOK_SUBPATH, base) as string | undefined;
    const source = webhookSourceOf(base);
    if (!subPath || !source) throw new Error(`${base.name} is not decorated with @WebhookController() and @WebhookSource()`);
    const subclass = class extends base {};
    Object.defineProperty(subclass, 'name', { value: base.name });
    return { base, subclass, subPath, source };
  });
  return {
    controllers: bound.map((b) => b.subclass),
    providers: [
      {
        provide: WEBHOOK_ROUTES,
        inject: [RESOLVED_OPTIONS],
        useFactory: (options: ResolvedFulfilmentOptions): WebhookRoute[] =>
          bound.map(({ subclass, subPath, source }) => {
            const path = webhookPath(options.webhooks.routePrefix, subPath);
            Reflect.defineMetadata(PATH_METADATA, path, subclass);
            return { path, prefix: webhookPath(options.webhooks.routePrefix, ''), source };
          }),
      },
      // Built while the app is created, so the description is in place before the host builds its document.
      { provide: WEBHOOK_OPENAPI, useFactory: () => describeWebhookRoutes(bound, openApi) },
      WebhookIntake,
      WebhookResponder,
      WebhookActivity,
      {
        provide: WebhookFrontDoor,
        inject: [WEBHOOK_ROUTES, HttpAdapterHost, ApplicationConfig, WebhookIntake, WebhookResponder],
        useFactory: (routes: WebhookRoute[], adapterHost: HttpAdapterHost, config: ApplicationConfig, intake: WebhookIntake, responder: WebhookResponder) =>
          new WebhookFrontDoor(routes, adapterHost, config, intake, responder),
      },
    ],
  };
}

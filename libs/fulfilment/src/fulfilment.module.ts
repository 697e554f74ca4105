import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  FulfilmentConfigurableModule,
  FULFILMENT_MODULE_OPTIONS,
  FULFILMENT_OPTIONS_TYPE,
  FULFILMENT_ASYNC_OPTIONS_TYPE,
  type FulfilmentModuleExtras,
} from './fulfilment.module-definition.js';
import { FULFILMENT_DATA_SOURCE, RESOLVED_OPTIONS } from './fulfilment.constants.js';
import { validateFulfilmentOptions, type FulfilmentModuleOptions, type ResolvedFulfilmentOptions } from './fulfilment.options.js';
import { FULFILMENT_ENTITIES } from './orders/entities/index.js';
import { FulfilmentEventBus } from './orders/fulfilment-event-bus.js';
import { OrderPlacementService } from './orders/order-placement.service.js';
import { OrderStore } from './orders/order-store.js';
import { OutboxRelay } from './orders/outbox-relay.js';
import { FulfilmentService } from './fulfilment.service.js';
import { WebhookInbox } from './webhooks/webhook-inbox.js';
import { PROVIDER_HTTP_MODULES, PROVIDER_PROVIDERS, ProviderEndpoints } from './provider-endpoints.js';
import { bindWebhookControllers } from './webhooks/webhook-routes.js';
import { CARYRX_MODULE_PARTS } from './caryrx/caryrx.providers.js';
import { SCRIPTDROP_MODULE_PARTS } from './scriptdrop/scriptdrop.providers.js';
import { SYNC_MODULE_PARTS } from './sync/sync.providers.js';
import { CARYRX_STATUS_TABLE } from './caryrx/caryrx-observation.js';
import { SCRIPTDROP_STATUS_TABLE } from './scriptdrop/scriptdrop-observation.js';
import { METRICS_PROVIDERS } from './metrics/metrics.providers.js';
import { FulfilmentHealthIndicator } from './health/fulfilment-health.indicator.js';
import { bindOpsConsole } from './ops/ops.providers.js';
import { RETENTION_MODULE_PARTS } from './retention/retention.providers.js';

const PARTS = [CARYRX_MODULE_PARTS, SCRIPTDROP_MODULE_PARTS, SYNC_MODULE_PARTS, RETENTION_MODULE_PARTS];

/** Metrics (prom-client, optional) and the terminus health indicator the host adds to its health check. */
const OBSERVABILITY = { providers: [...METRICS_PROVIDERS, FulfilmentHealthIndicator], exports: [FulfilmentHealthIndicator] };

/**
 * FulfilmentModule.forRoot(options) / forRootAsync({ imports, inject, useFactory }).
 *
 * Works inside the host's TypeORM setup: the host lists FULFILMENT_ENTITIES and
 * FULFILMENT_MODULE_MIGRATIONS (or uses autoLoadEntities), and names its DataSource with
 * `dataSource` when it is not the default one.
 */
@Module({})
export class FulfilmentModule extends FulfilmentConfigurableModule {
  static override forRoot(options: typeof FULFILMENT_OPTIONS_TYPE): DynamicModule {
    return FulfilmentModule.complete(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof FULFILMENT_ASYNC_OPTIONS_TYPE): DynamicModule {
    return FulfilmentModule.complete(super.forRootAsync(options), options);
  }

  /** Adds what the builder does not: validated options, the DataSource, the providers' parts, isGlobal. */
  private static complete(base: DynamicModule, extras: FulfilmentModuleExtras): DynamicModule {
    const webhooks = bindWebhookControllers(PARTS.flatMap((p) => p.webhookControllers), { openApi: extras.openApi ?? true });
    // Off unless `ops` is set; refuses (FulfilmentOptionsError naming ops.guard) without the host's access check.
    const ops = bindOpsConsole(extras.ops);
    const core: Provider[] = [
      {
        provide: RESOLVED_OPTIONS,
        inject: [FULFILMENT_MODULE_OPTIONS],
        // Throws FulfilmentOptionsError naming every problem: the app refuses to start.
        useFactory: (raw: FulfilmentModuleOptions) => validateFulfilmentOptions(raw),
      },
      {
        provide: FULFILMENT_DATA_SOURCE,
        // Injected (not looked up) so Nest waits for the host's async TypeORM setup.
        inject: [getDataSourceToken(extras.dataSource)],
        useFactory: (dataSource: DataSource): DataSource => dataSource,
      },
      ...PROVIDER_PROVIDERS,
      FulfilmentEventBus,
      {
        provide: OrderStore,
        inject: [FULFILMENT_DATA_SOURCE, RESOLVED_OPTIONS, FulfilmentEventBus],
        useFactory: (dataSource: DataSource, options: ResolvedFulfilmentOptions, events: FulfilmentEventBus) =>
          new OrderStore(
            dataSource,
            { syncIntervalMs: options.sync.intervalMs, statusTables: { caryrx: CARYRX_STATUS_TABLE, scriptdrop: SCRIPTDROP_STATUS_TABLE }, events: options.events },
            events,
          ),
      },
      OutboxRelay,
      OrderPlacementService,
      WebhookInbox,
      FulfilmentService,
      ...webhooks.providers,
    ];
    return {
      ...base,
      global: extras.isGlobal ?? false,
      imports: [...(base.imports ?? []), ...PROVIDER_HTTP_MODULES, TypeOrmModule.forFeature(FULFILMENT_ENTITIES, extras.dataSource)],
      controllers: [...(base.controllers ?? []), ...webhooks.controllers, ...ops.controllers],
      providers: [...(base.providers ?? []), ...core, ...PARTS.flatMap((p) => p.providers), ...OBSERVABILITY.providers, ...ops.providers],
      exports: [...(base.exports ?? []), FulfilmentService, ProviderEndpoints, ...PARTS.flatMap((p) => p.exports), ...OBSERVABILITY.exports],
    };
  }
}

import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FulfilmentModuleOptions, OpsConsoleOptions } from './fulfilment.options.js';

/** Static settings that shape the module itself, so they are given outside the (possibly async) options. */
export interface FulfilmentModuleExtras {
  /** Register the module globally (its services injectable everywhere). Default false. */
  isGlobal?: boolean;
  /** Name of the host's TypeORM DataSource, when it is not the default one. */
  dataSource?: string;
  /**
   * List the webhook routes in the host's `@nestjs/swagger` document (body schema, `token`
   * parameter, answers); `false` leaves them out. Default true; nothing happens without swagger.
   */
  openApi?: boolean;
  /**
   * The ops console (off by default): server-rendered pages of orders, webhooks and the sync, with
   * operator actions, at `path` behind the host's `guard` (required). See README, "Ops console".
   */
  ops?: OpsConsoleOptions;
}

export const {
  ConfigurableModuleClass: FulfilmentConfigurableModule,
  MODULE_OPTIONS_TOKEN: FULFILMENT_MODULE_OPTIONS,
  OPTIONS_TYPE: FULFILMENT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: FULFILMENT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<FulfilmentModuleOptions>({ moduleName: 'Fulfilment' })
  .setClassMethodName('forRoot')
  .setExtras<FulfilmentModuleExtras>({ isGlobal: false, dataSource: undefined, openApi: true, ops: undefined }, (definition) => definition)
  .build();

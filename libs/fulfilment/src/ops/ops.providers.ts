import { Controller, UseGuards, type CanActivate, type Provider, type Type } from '@nestjs/common';
import { validateOpsOptions, type ResolvedOpsOptions } from '../fulfilment.options.js';
import { OPS_OPTIONS, OpsAccessGuard } from './ops-access.guard.js';
import { OpsConsole } from './ops-console.service.js';
import { OpsConsoleController } from './ops-console.controller.js';
import { OpsCsrf } from './ops-csrf.js';
import { OpsRenderer } from './ops-renderer.js';

/**
 * The ops console's part of FulfilmentModule, from the `ops` option (given beside isGlobal, so it
 * is known when the module is defined): nothing when it is not set; otherwise a controller of its
 * own at `ops.path`, guarded by the host's guard class (run first) and OpsAccessGuard. Throws
 * FulfilmentOptionsError, naming `ops.guard`, when the host gave no access check: the console
 * never mounts open.
 */
export function bindOpsConsole(raw: unknown): { controllers: Type[]; providers: Provider[] } {
  const options = validateOpsOptions(raw);
  if (!options) return { controllers: [], providers: [] };
  // A subclass per module: two apps in one process (tests, replicas) keep their own path and guard.
  const controller = class extends OpsConsoleController {};
  Object.defineProperty(controller, 'name', { value: 'OpsConsoleController' });
  Controller(options.path)(controller);
  const hostGuard = options.guard.kind === 'class' ? [options.guard.guard as unknown as Type<CanActivate>] : [];
  UseGuards(...hostGuard, OpsAccessGuard)(controller);
  // Pages for people, not an API: kept out of the host's @nestjs/swagger document. The key is
  // @ApiExcludeController()'s, set directly since swagger is an optional peer.
  Reflect.defineMetadata('swagger/apiExcludeController', [true], controller);
  return {
    controllers: [controller],
    providers: [
      { provide: OPS_OPTIONS, useValue: options },
      { provide: OpsCsrf, inject: [OPS_OPTIONS], useFactory: (o: ResolvedOpsOptions) => new OpsCsrf(o.csrfSecret) },
      { provide: OpsRenderer, useFactory: () => new OpsRenderer() },
      OpsConsole,
    ],
  };
}

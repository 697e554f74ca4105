// First: the DTOs' decorators store their metadata with it as their modules load (Nest hosts have it).
import 'reflect-metadata';
// The public API of nestjs-fulfilment. Nothing else is exported; simulators and test helpers are
// the `nestjs-fulfilment/testing` entry (sandbox/index.ts), which nothing here imports.
export { FulfilmentModule } from './fulfilment.module.js';
export type { FulfilmentModuleExtras } from './fulfilment.module-definition.js';
export {
  CARYRX_ENVIRONMENTS,
  type CaryRxEnvironment,
  type CaryRxOptions,
  type ScriptDropOptions,
  type WebhookOptions,
  type SyncOptions,
  type SandboxOptions,
  type SandboxProviderOptions,
  type FulfilmentModuleOptions,
} from './fulfilment.options.js';
// metrics and health
export type { MetricsOptions, MetricsRegistry } from './fulfilment.options.js';
export { FulfilmentHealthIndicator, type FulfilmentHealthOptions, type FulfilmentHealthResult } from './health/fulfilment-health.indicator.js';
export * from './http/index.js';
export {
  FulfilmentError,
  FulfilmentOptionsError,
  FulfilmentValidationError,
  FulfilmentConfigurationError,
  FulfilmentNotFoundError,
  FulfilmentUnsupportedOperationError,
  OrderStateError,
  OrderOutcomeUnknownError,
} from './orders/fulfilment-errors.js';
export { toFieldErrors, type FieldError } from './validation.js';
export { FulfilmentValidationPipe } from './fulfilment-validation.pipe.js';
export { FulfilmentExceptionFilter } from './host-http/fulfilment-exception.filter.js';
export { toHttpError, type FulfilmentErrorBody, type FulfilmentErrorType, type FulfilmentHttpError } from './host-http/to-http-error.js';
export type { FulfilmentOrderView, FulfilmentOrderHistoryEntry } from './orders/order-views.js';
export type { PlaceOrderResult } from './orders/order-placement.service.js';
export {
  FulfilmentEvents,
  type OrderStatusChangedEvent,
  type PrescriptionEvent,
  type WebhookRejectedEvent,
} from './orders/fulfilment-events.js';
export { FULFILMENT_STATUSES, TERMINAL_STATUSES, isTerminal, type FulfilmentStatus } from './orders/order-state-machine.js';
// Entities: for the host's TypeORM setup (entities, migrations, autoLoadEntities). The services
// never return them; reads return the view types above.
export {
  FULFILMENT_ENTITIES,
  FulfilmentOrder,
  OrderStatusHistory,
  PatientLink,
  PatientLocation,
  Prescription,
  WebhookInboxEvent,
  WebhookRegistration,
} from './orders/entities/index.js';
export type { StatusChangeSource } from './orders/entities/order-status-history.entity.js';
export { FULFILMENT_MIGRATIONS, runFulfilmentMigrations } from './migrations/index.js';
export { ProviderEndpoints } from './provider-endpoints.js';
export { FulfilmentService } from './fulfilment.service.js';
export type { OrderObservation, ObservationOutcome, ProviderStatusTable } from './orders/order-state-machine.js';
export * from './caryrx/index.js';
export * from './sync/index.js';
export * from './scriptdrop/index.js';
// The ops console (option `ops`, README "Ops console").
export type { OpsConsoleOptions, OpsAccessCheck, OpsRequest, OpsGuardClass } from './fulfilment.options.js';
export type { FulfilmentActionContext } from './fulfilment.service.js';
export * from './retention/index.js';
export { JobLease, FulfilmentOutboxEvent } from './orders/entities/index.js';
export { DEFAULT_WEBHOOK_RETENTION_DAYS, type RetentionOptions } from './fulfilment.options.js';

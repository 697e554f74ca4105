import type { FulfilmentOrder } from './entities/fulfilment-order.entity.js';

/** Base class of the module's own errors (provider errors are ProviderError, see http/). */
export class FulfilmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Client input failed validation before anything was sent. `fields` lists every bad field path. */
export class FulfilmentValidationError extends FulfilmentError {
  constructor(
    readonly operation: string,
    readonly fields: Array<{ path: string; messages: string[] }>,
  ) {
    super(`${operation}: invalid input: ${fields.map((f) => `${f.path} ${f.messages.join(', ')}`).join('; ')}`);
  }
}

/** The operation is not possible with the current configuration (e.g. a provider not configured). */
export class FulfilmentConfigurationError extends FulfilmentError {}

/**
 * A create was sent but its outcome is unknown (timeout after sending, connection lost, 5xx while
 * handling). The order is stored with status `unknown` and was NOT re-sent: reconcile it with the
 * provider before trying again with a new idempotency key.
 */
export class OrderOutcomeUnknownError extends FulfilmentError {
  readonly orderId: string;
  readonly idempotencyKey: string;
  constructor(order: Pick<FulfilmentOrder, 'id' | 'idempotencyKey' | 'provider'>, cause: unknown) {
    super(`${order.provider} order ${order.id}: create outcome unknown; stored as unknown and not re-sent`, { cause });
    this.orderId = order.id;
    this.idempotencyKey = order.idempotencyKey;
  }
}

/** A local order, patient or location that does not exist. */
export class FulfilmentNotFoundError extends FulfilmentError {}

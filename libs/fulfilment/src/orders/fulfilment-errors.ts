import type { ProviderName } from '../http/provider-errors.js';
import type { FulfilmentOrder } from './entities/fulfilment-order.entity.js';
import type { FulfilmentStatus } from './order-state-machine.js';
import { FulfilmentError } from '../fulfilment-error.js';

export { FulfilmentError };

/**
 * The module options are invalid. Thrown once at boot (the app refuses to start), with every
 * problem named by its path in `problems`; values are never echoed.
 */
export class FulfilmentOptionsError extends FulfilmentError {
  constructor(readonly problems: string[]) {
    super(`Invalid FulfilmentModule options:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Input failed validation; nothing was sent. `fields` names each bad field once, by its path from
 * the root of what the caller passed (`patient.dob`, `order.prescriptions[0].ndc`), with the first
 * rule it broke; never its value.
 */
export class FulfilmentValidationError extends FulfilmentError {
  constructor(
    readonly operation: string,
    readonly fields: Array<{ path: string; message: string }>,
  ) {
    super(`${operation}: invalid input: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`);
  }

  /**
   * The same problems named from the root of the caller's own request, for a host that passed a
   * part of it to a module call: `rooted('patient')` turns `dob` into `patient.dob`, and
   * `rooted('delivery', 'order')` turns `order.pharmacy.npi` into `delivery.pharmacy.npi` (paths
   * outside `from` are kept as they are).
   */
  rooted(at: string, from = ''): FulfilmentValidationError {
    const move = (path: string): string => {
      if (from === '') return path.startsWith('(') ? at || path : FulfilmentValidationError.join(at, path.startsWith('[') ? path : `.${path}`);
      if (path === from) return at;
      const rest = path.slice(from.length);
      return path.startsWith(from) && (rest.startsWith('.') || rest.startsWith('[')) ? FulfilmentValidationError.join(at, rest) : path;
    };
    return new FulfilmentValidationError(
      this.operation,
      this.fields.map(({ path, message }) => ({ path: move(path), message })),
    );
  }

  /** `at` + `.rest` or `[i]rest`, or the rest alone (without its dot) when `at` is the root. */
  private static join(at: string, rest: string): string {
    return at ? `${at}${rest}` : rest.replace(/^\./, '');
  }
}

/**
 * At run time, the operation needs configuration the module was not given (a provider block, or
 * `webhooks.publicUrl` for registering webhooks). A deployment fault, not the caller's.
 */
export class FulfilmentConfigurationError extends FulfilmentError {}

/** A local order, patient or location that does not exist. */
export class FulfilmentNotFoundError extends FulfilmentError {}

/**
 * The provider offers no such operation (e.g. the CaryRx API documents no cancellation), or not in
 * this environment (CaryRx creates prescriptions in development and UAT only). Refused locally:
 * nothing was sent.
 */
export class FulfilmentUnsupportedOperationError extends FulfilmentError {
  constructor(
    readonly provider: ProviderName,
    readonly operation: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The order's state does not allow the operation: it is terminal (delivered, returned, cancelled),
 * or its create outcome is unknown so it has no provider id yet. Refused locally: nothing was sent.
 */
export class OrderStateError extends FulfilmentError {
  readonly orderId: string;
  readonly status: FulfilmentStatus;

  constructor(order: Pick<FulfilmentOrder, 'id' | 'status'>, message: string) {
    super(message);
    this.orderId = order.id;
    this.status = order.status;
  }
}

/**
 * A create was sent but its outcome is unknown (timeout after sending, connection lost, 5xx while
 * handling, an unreadable 2xx). The order is stored with status `unknown` and was NOT re-sent:
 * reconcile it with the provider before trying again with a new idempotency key. `cause` is the
 * provider failure.
 */
export class OrderOutcomeUnknownError extends FulfilmentError {
  readonly orderId: string;
  readonly idempotencyKey: string;
  readonly provider: ProviderName;
  constructor(order: Pick<FulfilmentOrder, 'id' | 'idempotencyKey' | 'provider'>, cause: unknown) {
    super(`${order.provider} order ${order.id}: create outcome unknown; stored as unknown and not re-sent`, { cause });
    this.orderId = order.id;
    this.idempotencyKey = order.idempotencyKey;
    this.provider = order.provider;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { SCRIPTDROP_HTTP_CLIENT } from '../fulfilment.constants.js';
import { providerInvalidResponseError } from '../http/provider-errors.js';
import type { ProviderHttpClient, ProviderRequest } from '../http/provider-http-client.js';
import { FulfilmentConfigurationError } from '../orders/fulfilment-errors.js';
import { validateId, validateInput, validateParts } from '../validation.js';
import {
  ScriptDropOrderIdsDto,
  ScriptDropOrderInputDto,
  ScriptDropPharmacyIdDto,
  ScriptDropAddPrescriptionDto,
  ScriptDropDeliveryInformationDto,
  SCRIPTDROP_ID_MAX_LENGTH,
} from './scriptdrop.dto.js';
import type {
  ScriptDropAddPrescriptionInput,
  ScriptDropDeliveryInformationInput,
  ScriptDropOrder,
  ScriptDropOrderInput,
} from './scriptdrop.types.js';
import {
  SCRIPTDROP_IDS_QUERY_KEY,
  SCRIPTDROP_PATHS,
  orderFromWire,
  orderOfEnvelope,
  orderToWire,
  ordersOfEnvelope,
  addPrescriptionToWire,
  deliveryInformationToQuery,
} from './scriptdrop.wire.js';

export interface ScriptDropCallOptions {
  /** Overrides the client's per-attempt timeout for this call. */
  timeoutMs?: number;
}

/**
 * The ScriptDrop Delivery API, one method per endpoint: validated camelCase input in, camelCase
 * results out. Stateless: ScriptDropFulfilment keeps the local order rows.
 *
 * Input is checked against every rule of the document's parameter tables before anything is sent
 * (FulfilmentValidationError naming each bad field). Errors from ScriptDrop (`{"error":{"message"}}`)
 * arrive as the HTTP core's typed ProviderErrors with ScriptDrop's message in `providerMessage`.
 * Creates and add-prescription are POSTs and never repeated once they may have reached ScriptDrop;
 * GETs and DELETEs are retried by the HTTP core (429 and 503 for every method).
 */
@Injectable()
export class ScriptDropService {
  constructor(@Inject(SCRIPTDROP_HTTP_CLIENT) private readonly client: ProviderHttpClient | null) {}

  /**
   * Creates a delivery order (`sameday` when `serviceLevel` is absent, `ondemand` with `readyAt`,
   * `shipping` with the shipping block). Sent once. Use ScriptDropFulfilment.createDelivery to also
   * keep the order locally under an idempotency key.
   */
  async createOrder(input: ScriptDropOrderInput, options: ScriptDropCallOptions = {}): Promise<ScriptDropOrder> {
    const valid = validateInput(ScriptDropOrderInputDto, input, 'ScriptDrop create order');
    return this.orderCall({ method: 'POST', operation: 'create_order', path: SCRIPTDROP_PATHS.orders, body: orderToWire(valid), timeoutMs: options.timeoutMs });
  }

  /** Cancels an order (204). ScriptDrop refuses unless it is `new` or `submitted to courier` (ProviderValidationError). */
  async cancelOrder(orderId: string, options: ScriptDropCallOptions = {}): Promise<void> {
    const id = this.id(orderId, 'ScriptDrop cancel order');
    await this.requireClient().request({ method: 'DELETE', operation: 'cancel_order', path: SCRIPTDROP_PATHS.order(id), timeoutMs: options.timeoutMs });
  }

  async getOrder(orderId: string, options: ScriptDropCallOptions = {}): Promise<ScriptDropOrder> {
    const id = this.id(orderId, 'ScriptDrop get order');
    return this.orderCall({ method: 'GET', operation: 'get_order', path: SCRIPTDROP_PATHS.order(id), timeoutMs: options.timeoutMs });
  }

  /**
   * Several orders in one call: `GET /api/v1/orders?ids[]=1&ids[]=2`. Ids ScriptDrop does not know
   * are simply absent from the result. Send batches of a reasonable size (the status sync sends at
   * most `sync.batchSize`, default 50): all ids travel in the URL.
   */
  async getOrders(orderIds: string[], options: ScriptDropCallOptions = {}): Promise<ScriptDropOrder[]> {
    const { ids } = validateInput(ScriptDropOrderIdsDto, { ids: orderIds }, 'ScriptDrop get orders');
    const path = SCRIPTDROP_PATHS.orders;
    const response = await this.requireClient().request<unknown>({
      method: 'GET',
      operation: 'get_orders',
      path,
      query: { [SCRIPTDROP_IDS_QUERY_KEY]: [...new Set(ids)] },
      timeoutMs: options.timeoutMs,
    });
    const list = ordersOfEnvelope(response.data);
    if (!list) throw this.invalid('GET', path, response.status, response.attempts, 'no orders list in the answer');
    return list.map(orderFromWire);
  }

  /** Adds a prescription to an existing order; answers the order. `dateOfService` is create-order only (refused here). */
  async addPrescription(orderId: string, prescription: ScriptDropAddPrescriptionInput, options: ScriptDropCallOptions = {}): Promise<ScriptDropOrder> {
    const operation = 'ScriptDrop add prescription';
    const [id, valid] = validateParts(
      operation,
      () => this.id(orderId, operation, 'orderId'),
      () => validateInput(ScriptDropAddPrescriptionDto, prescription, operation),
    );
    return this.orderCall({ method: 'POST', operation: 'add_prescription', path: SCRIPTDROP_PATHS.prescriptions(id), body: addPrescriptionToWire(valid), timeoutMs: options.timeoutMs });
  }

  /** Removes a prescription (by Rx number) from an order (204). */
  async removePrescription(orderId: string, rxNumber: string, options: ScriptDropCallOptions = {}): Promise<void> {
    const operation = 'ScriptDrop remove prescription';
    const [id, rx] = validateParts(
      operation,
      () => this.id(orderId, operation, 'orderId'),
      () => this.id(rxNumber, operation, 'rxNumber'),
    );
    await this.requireClient().request({ method: 'DELETE', operation: 'remove_prescription', path: SCRIPTDROP_PATHS.prescription(id, rx), timeoutMs: options.timeoutMs });
  }

  /**
   * Delivery information of a pharmacy, by NPI (10 digits) or NCPDP (7 digits), for a drop-off
   * address (required) and the optional POD signature, package and Saturday delivery, sent as query
   * parameters (SCRIPTDROP_DELIVERY_INFORMATION_QUERY: the document names them, not their encoding).
   *
   * The document's response for this endpoint is "TBD", so the parsed JSON body is returned as it
   * came, untyped (`unknown`): check its shape before use. A body that is not JSON is
   * ProviderInvalidResponseError.
   */
  async getPharmacyDeliveryInformation(
    pharmacyId: string,
    input: ScriptDropDeliveryInformationInput,
    options: ScriptDropCallOptions = {},
  ): Promise<unknown> {
    const operation = 'ScriptDrop get pharmacy delivery information';
    const [{ pharmacyId: id }, valid] = validateParts(
      operation,
      () => validateInput(ScriptDropPharmacyIdDto, { pharmacyId }, operation),
      () => validateInput(ScriptDropDeliveryInformationDto, input, operation),
    );
    const path = SCRIPTDROP_PATHS.pharmacy(id);
    const response = await this.requireClient().request<unknown>({
      method: 'GET',
      operation: 'get_pharmacy_delivery_information',
      path,
      query: deliveryInformationToQuery(valid),
      timeoutMs: options.timeoutMs,
    });
    if (response.data === undefined || typeof response.data === 'string') {
      throw this.invalid('GET', path, response.status, response.attempts, 'no JSON body in the answer');
    }
    return response.data;
  }

  // --- internals ---------------------------------------------------------------------------------

  private requireClient(): ProviderHttpClient {
    if (!this.client) throw new FulfilmentConfigurationError('ScriptDrop is not configured');
    return this.client;
  }

  private id(value: string, operation: string, path?: string): string {
    return validateId(value, operation, SCRIPTDROP_ID_MAX_LENGTH, path);
  }

  /** A call answered with `{"order": {...}}`. */
  private async orderCall(request: ProviderRequest): Promise<ScriptDropOrder> {
    const response = await this.requireClient().request<unknown>(request);
    const order = orderOfEnvelope(response.data);
    if (!order) throw this.invalid(request.method, request.path, response.status, response.attempts, 'no order with an id in the answer');
    return orderFromWire(order);
  }

  /** A 2xx we cannot use: a typed error rather than a crash later. */
  private invalid(method: string, path: string, status: number, attempts: number, reason: string) {
    return providerInvalidResponseError({ provider: 'scriptdrop', method, path, status, attempts, retryable: false, reason });
  }
}

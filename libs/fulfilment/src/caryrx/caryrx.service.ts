import { Inject, Injectable } from '@nestjs/common';
import { CARYRX_HTTP_CLIENT, PROVIDER_ENDPOINTS } from '../fulfilment.constants.js';
import { providerInvalidResponseError } from '../http/provider-errors.js';
import type { ProviderHttpClient, ProviderHttpMethod } from '../http/provider-http-client.js';
import { FulfilmentConfigurationError, FulfilmentUnsupportedOperationError } from '../orders/fulfilment-errors.js';
import type { CaryRxEnvironment } from '../fulfilment.options.js';
import { validateId, validateInput, validateParts } from '../validation.js';
import {
  CaryRxLocationInputDto,
  CaryRxOrderInputDto,
  CaryRxPatientInputDto,
  CaryRxPrescriptionInputDto,
  CaryRxWebhookRegistrationInputDto,
  CARYRX_ID_MAX_LENGTH,
} from './caryrx.dto.js';
import type {
  CaryRxEntityRef,
  CaryRxLocationInput,
  CaryRxOrder,
  CaryRxOrderInput,
  CaryRxPatient,
  CaryRxPatientInput,
  CaryRxPrescription,
  CaryRxPrescriptionInput,
  CaryRxWebhookRegistrationInput,
  CaryRxWebhookRegistrationResult,
} from './caryrx.types.js';
import {
  CARYRX_PATHS,
  entityRefFromWire,
  locationToWire,
  orderFromWire,
  orderToWire,
  patientFromWire,
  patientToWire,
  prescriptionFromWire,
  prescriptionToWire,
  webhookRegistrationFromWire,
  webhookRegistrationToWire,
  type CaryRxEntityRefWire,
  type CaryRxOrderWire,
  type CaryRxPatientWire,
  type CaryRxPrescriptionWire,
} from './caryrx.wire.js';

export interface CaryRxCallOptions {
  /** Overrides the client's per-attempt timeout for this call. */
  timeoutMs?: number;
}

/**
 * The CaryRx Fulfilment API, one method per endpoint: validated camelCase input in, camelCase
 * results out. Stateless: local records (patient links, orders) are kept by CaryRxFulfilment.
 * Creates are POSTs and are never repeated after they may have reached CaryRx; GETs are retried.
 */
@Injectable()
export class CaryRxService {
  constructor(
    @Inject(CARYRX_HTTP_CLIENT) private readonly client: ProviderHttpClient | null,
    // The module's ProviderEndpoints; only where CaryRx points matters here.
    @Inject(PROVIDER_ENDPOINTS) private readonly endpoints: { readonly caryrx?: { readonly environment: CaryRxEnvironment } },
  ) {}

  /** The configured environment (sandbox mode is `development`); undefined when CaryRx is not configured. */
  get environment(): string | undefined {
    return this.endpoints.caryrx?.environment;
  }

  async registerPrescriptionWebhook(input: CaryRxWebhookRegistrationInput): Promise<CaryRxWebhookRegistrationResult> {
    const valid = validateInput(CaryRxWebhookRegistrationInputDto, input, 'CaryRx register prescription webhook');
    const data = await this.call<unknown>('register_prescription_webhook', 'POST', CARYRX_PATHS.prescriptionEvents, webhookRegistrationToWire(valid));
    return webhookRegistrationFromWire(data);
  }

  async registerOrderWebhook(input: CaryRxWebhookRegistrationInput): Promise<CaryRxWebhookRegistrationResult> {
    const valid = validateInput(CaryRxWebhookRegistrationInputDto, input, 'CaryRx register order webhook');
    const data = await this.call<unknown>('register_order_webhook', 'POST', CARYRX_PATHS.orderEvents, webhookRegistrationToWire(valid));
    return webhookRegistrationFromWire(data);
  }

  async createPatient(input: CaryRxPatientInput): Promise<CaryRxEntityRef> {
    const valid = validateInput(CaryRxPatientInputDto, input, 'CaryRx create patient');
    return this.created('create_patient', 'POST', CARYRX_PATHS.patients, patientToWire(valid));
  }

  async getPatient(patientId: string): Promise<CaryRxPatient> {
    const id = this.id(patientId, 'CaryRx get patient');
    const path = CARYRX_PATHS.patient(id);
    return patientFromWire(this.withId(await this.call<CaryRxPatientWire>('get_patient', 'GET', path), 'GET', path));
  }

  async createPatientLocation(patientId: string, input: CaryRxLocationInput): Promise<CaryRxEntityRef> {
    const operation = 'CaryRx create patient location';
    const [id, valid] = validateParts(
      operation,
      () => this.id(patientId, operation, 'patientId'),
      () => validateInput(CaryRxLocationInputDto, input, operation),
    );
    return this.created('create_patient_location', 'POST', CARYRX_PATHS.patientLocation(id), locationToWire(id, valid));
  }

  /** Development and UAT only: in production prescriptions arrive when the pharmacy receives them. */
  async createPrescription(input: CaryRxPrescriptionInput): Promise<CaryRxEntityRef> {
    this.requireClient();
    if (this.environment === 'production') {
      throw new FulfilmentUnsupportedOperationError(
        'caryrx',
        'create prescription',
        'CaryRx create prescription is for testing only and is refused in production (prescriptions arrive from the pharmacy)',
      );
    }
    const valid = validateInput(CaryRxPrescriptionInputDto, input, 'CaryRx create prescription');
    return this.created('create_prescription', 'POST', CARYRX_PATHS.prescriptions, prescriptionToWire(valid));
  }

  /**
   * Sends a create-order request once. Use CaryRxFulfilment.placeOrder to also keep the order,
   * its idempotency key and its status history locally.
   */
  async createOrder(input: CaryRxOrderInput, options: CaryRxCallOptions = {}): Promise<CaryRxOrder> {
    const valid = validateInput(CaryRxOrderInputDto, input, 'CaryRx create order');
    const path = CARYRX_PATHS.orders;
    const data = await this.call<CaryRxOrderWire>('create_order', 'POST', path, orderToWire(valid), options);
    return orderFromWire(this.withId(data, 'POST', path));
  }

  async getOrder(orderId: string, options: CaryRxCallOptions = {}): Promise<CaryRxOrder> {
    const id = this.id(orderId, 'CaryRx get order');
    const path = CARYRX_PATHS.order(id);
    return orderFromWire(this.withId(await this.call<CaryRxOrderWire>('get_order', 'GET', path, undefined, options), 'GET', path));
  }

  async getPrescription(prescriptionId: string): Promise<CaryRxPrescription> {
    const id = this.id(prescriptionId, 'CaryRx get prescription');
    const path = CARYRX_PATHS.prescription(id);
    return prescriptionFromWire(this.withId(await this.call<CaryRxPrescriptionWire>('get_prescription', 'GET', path), 'GET', path));
  }

  // --- internals ---------------------------------------------------------------------------------

  private requireClient(): ProviderHttpClient {
    if (!this.client) throw new FulfilmentConfigurationError('CaryRx is not configured');
    return this.client;
  }

  private id(value: string, operation: string, path?: string): string {
    return validateId(value, operation, CARYRX_ID_MAX_LENGTH, path);
  }

  /** `operation` names the call in the metrics (a fixed name, never an id). */
  private async call<T>(operation: string, method: ProviderHttpMethod, path: string, body?: unknown, options: CaryRxCallOptions = {}): Promise<T> {
    const client = this.requireClient();
    const response = await client.request<T>({ method, operation, path, body, timeoutMs: options.timeoutMs });
    return response.data;
  }

  private async created(operation: string, method: ProviderHttpMethod, path: string, body: unknown): Promise<CaryRxEntityRef> {
    const data = await this.call<CaryRxEntityRefWire>(operation, method, path, body);
    const ref = entityRefFromWire(this.withId(data, method, path));
    return ref!;
  }

  /** A 2xx without an object carrying an id is not something we can use: a typed error, not a crash later. */
  private withId<T extends { id: unknown }>(data: T | undefined, method: string, path: string): T {
    if (!data || typeof data !== 'object' || Array.isArray(data) || (typeof data.id !== 'string' && typeof data.id !== 'number')) {
      throw providerInvalidResponseError({ provider: 'caryrx', method, path, status: 200, attempts: 1, retryable: false, reason: 'no id in the answer' });
    }
    return data;
  }
}

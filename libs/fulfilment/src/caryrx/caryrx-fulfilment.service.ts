import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { PatientLink } from '../orders/entities/patient-link.entity.js';
import type { PatientLocation } from '../orders/entities/patient-location.entity.js';
import type { Prescription } from '../orders/entities/prescription.entity.js';
import { FulfilmentConfigurationError, FulfilmentNotFoundError, OrderStateError } from '../orders/fulfilment-errors.js';
import { toOrderView, type FulfilmentOrderView } from '../orders/order-views.js';
import { OrderPlacementService, isCreateOutcomeUnknown, type PlaceOrderResult } from '../orders/order-placement.service.js';
import { OrderStore, type ChangeContext } from '../orders/order-store.js';
import { validateInput, validateParts } from '../validation.js';
import type { WebhookRegistration } from '../orders/entities/webhook-registration.entity.js';
import { webhookPath } from '../webhooks/webhook-routes.js';
import { secretFingerprint, withToken } from '../webhooks/webhook-secrets.js';
import { CaryRxService } from './caryrx.service.js';
import {
  CaryRxLocationInputDto,
  CaryRxOrderInputDto,
  CaryRxPatientInputDto,
  HostReferenceDto,
  PlaceCaryRxOrderInputDto,
  type PlaceCaryRxOrderInput,
} from './caryrx.dto.js';
import type { CaryRxLocationInput, CaryRxOrderInput, CaryRxPatientInput, CaryRxPrescriptionInput } from './caryrx.types.js';
import { CARYRX_DEFAULT_SHIPPING_METHOD } from './caryrx.wire.js';
import { caryRxObservation } from './caryrx-observation.js';
import { caryRxCreateSignature } from './caryrx-reconciliation.js';

export const CARYRX_WEBHOOK_TOPICS = ['prescriptions', 'orders'] as const;
export type CaryRxWebhookTopic = (typeof CARYRX_WEBHOOK_TOPICS)[number];

/**
 * The CaryRx flow with local state (exposed as `FulfilmentService.caryrx`): patients linked to the
 * host's references, their locations, prescriptions and orders, each stored with ids, statuses and
 * timestamps only. Names, dates of birth and addresses are sent on to CaryRx and never stored.
 */
@Injectable()
export class CaryRxFulfilment {
  private readonly logger = new Logger('Fulfilment:CaryRx');

  constructor(
    private readonly caryrx: CaryRxService,
    private readonly placement: OrderPlacementService,
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
  ) {}

  /**
   * The CaryRx patient for a host reference, created once. A second call returns the stored link
   * and sends nothing. The link row is written before the create call, so an interrupted call is
   * visible (providerPatientId NULL) and the next call completes it.
   */
  async ensurePatient(hostReference: string, patient: CaryRxPatientInput): Promise<PatientLink> {
    const operation = 'CaryRx ensure patient';
    const [ref, input] = validateParts(
      operation,
      () => validateInput(HostReferenceDto, { hostReference }, operation).hostReference,
      () => validateInput(CaryRxPatientInputDto, patient, operation),
    );
    const { link, created } = await this.store.ensurePatientLink('caryrx', ref);
    if (link.providerPatientId) return link;
    if (!created) {
      this.logger.warn(`patient link ${link.id}: an earlier create did not complete; sending it again`);
    }
    try {
      const patient = await this.caryrx.createPatient(input);
      return await this.store.completePatientLink(link.id, patient.id);
    } catch (err) {
      // A definite refusal leaves nothing behind; an unknown outcome keeps the link for the next call.
      if (!isCreateOutcomeUnknown(err)) await this.store.dropIncompletePatientLink(link.id);
      throw err;
    }
  }

  /** Registers a delivery location with CaryRx and keeps its id and label (not the address). */
  async addLocation(patient: string, location: CaryRxLocationInput): Promise<PatientLocation> {
    const input = validateInput(CaryRxLocationInputDto, location, 'CaryRx add location');
    const link = await this.linkOf(patient);
    const created = await this.caryrx.createPatientLocation(link.providerPatientId!, input);
    return this.store.addLocation({
      id: randomUUID(),
      patientLinkId: link.id,
      providerLocationId: created.id,
      label: input.locationName?.slice(0, 64) ?? null,
      createdAt: new Date(),
    });
  }

  /**
   * Development/UAT only (refused in production): creates a simulated prescription and tracks it.
   * Its status arrives with the prescription webhook.
   */
  async createPrescription(input: CaryRxPrescriptionInput): Promise<Prescription> {
    const created = await this.caryrx.createPrescription(input);
    // The webhook may have stored it first: the store returns whichever row exists.
    return this.store.recordCreatedPrescription('caryrx', created.id, input.patientId);
  }

  /**
   * Places an order through OrderPlacementService: the row is stored with its idempotency key
   * first, then CaryRx is called once, then its id is stored. A timeout leaves the order `unknown`
   * (OrderOutcomeUnknownError), never re-sent; a reused key returns the stored order.
   */
  async placeOrder(request: PlaceCaryRxOrderInput): Promise<PlaceOrderResult> {
    const input = validateInput(PlaceCaryRxOrderInputDto, request, 'CaryRx place order');
    const existing = await this.store.getOrderByIdempotencyKey(input.idempotencyKey);
    if (existing) return { order: toOrderView(existing), created: false };

    const link = await this.linkOf(input.patientHostReference);
    const location = await this.store.findLocation(link.id, input.locationId);
    if (!location) throw new FulfilmentNotFoundError(`CaryRx place order: location ${input.locationId} is not a location of this patient`);
    const order: CaryRxOrderInput = validateInput(
      CaryRxOrderInputDto,
      {
        patientId: link.providerPatientId!,
        patientLocationId: location.providerLocationId,
        prescriptionIds: input.prescriptionIds,
        shippingMethod: input.shippingMethod,
        centralFill: input.centralFill,
        patientDeliveryNote: input.patientDeliveryNote,
        patientPharmacyNote: input.patientPharmacyNote,
      },
      'CaryRx place order',
    );

    return this.placement.place(
      {
        provider: 'caryrx',
        idempotencyKey: input.idempotencyKey,
        hostReference: input.hostReference ?? null,
        serviceLevel: order.shippingMethod ?? CARYRX_DEFAULT_SHIPPING_METHOD,
        patientLinkId: link.id,
        createSignature: caryRxCreateSignature(order),
      },
      async () => {
        const created = await this.caryrx.createOrder(order);
        return {
          providerOrderId: created.id,
          providerCreatedAt: created.createdAt,
          // A create answer without a status is the document's new order: `pending`.
          observation: caryRxObservation({ ...created, orderStatus: created.orderStatus ?? 'pending' })!,
        };
      },
    );
  }

  /**
   * Registers both callbacks with CaryRx as
   * `${publicUrl}/${routePrefix}/webhooks/caryrx/{prescriptions|orders}?token=<first secret>`.
   * The registration row (URL without the token, a fingerprint of the secret) is written before the
   * call, because CaryRx posts its test payload to the new callback straight away.
   */
  async registerWebhooks(input: { publicUrl?: string } = {}): Promise<WebhookRegistration[]> {
    const secret = this.options.webhooks.secrets[0];
    if (!secret) throw new FulfilmentConfigurationError('CaryRx webhooks need webhooks.secret in the module options');
    const publicUrl = (input.publicUrl ?? this.options.webhooks.publicUrl)?.replace(/\/+$/, '');
    if (!publicUrl || !/^https?:\/\//.test(publicUrl)) {
      throw new FulfilmentConfigurationError('CaryRx webhooks need webhooks.publicUrl in the module options (or a publicUrl argument)');
    }
    const registrations: WebhookRegistration[] = [];
    for (const topic of CARYRX_WEBHOOK_TOPICS) {
      const callbackUrl = `${publicUrl}/${webhookPath(this.options.webhooks.routePrefix, `caryrx/${topic}`)}`;
      const registration = await this.store.storeRegistration({
        provider: 'caryrx',
        topic,
        callbackUrl,
        secretFingerprint: secretFingerprint(secret),
        registeredAt: new Date(),
      });
      const register = topic === 'prescriptions' ? this.caryrx.registerPrescriptionWebhook : this.caryrx.registerOrderWebhook;
      await register.call(this.caryrx, { callbackUrl: withToken(callbackUrl, secret) });
      registrations.push(registration);
    }
    return registrations;
  }

  /**
   * The stored registrations of both callbacks: the URL without its token, the fingerprint of the
   * secret it carries, and `confirmedAt` once CaryRx's test payload arrived on it.
   */
  webhookRegistrations(): Promise<WebhookRegistration[]> {
    return this.store.registrations('caryrx');
  }

  /**
   * Reads the order at CaryRx and applies what it says through the one transition path (source
   * `sync`). Returns the order as stored afterwards.
   */
  async refreshOrder(orderId: string, context?: ChangeContext): Promise<FulfilmentOrderView> {
    const order = await this.store.getOrder(orderId);
    if (!order || order.provider !== 'caryrx') throw new FulfilmentNotFoundError(`CaryRx order ${orderId} not found`);
    if (!order.providerOrderId) {
      throw new OrderStateError(order, `CaryRx order ${orderId} has no CaryRx id (its create outcome is unknown): reconcile it first`);
    }
    const observation = caryRxObservation(await this.caryrx.getOrder(order.providerOrderId));
    if (!observation) return toOrderView(order);
    const result = await this.store.observe('caryrx', order.providerOrderId, observation, context?.source ?? 'sync', context?.actor ?? null);
    return toOrderView(result.order ?? order);
  }

  // --- internals ---------------------------------------------------------------------------------

  /** A patient link by its local id or the host's reference; it must have a CaryRx id. */
  private async linkOf(patient: string): Promise<PatientLink> {
    const ref = validateInput(HostReferenceDto, { hostReference: patient }, 'CaryRx patient').hostReference;
    const link = await this.store.findPatientLink('caryrx', ref);
    if (!link?.providerPatientId) throw new FulfilmentNotFoundError('CaryRx patient not found for that reference (call ensurePatient first)');
    return link;
  }
}

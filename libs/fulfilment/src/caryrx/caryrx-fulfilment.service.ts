import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { FULFILMENT_DATA_SOURCE, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { FulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
import { PatientLink } from '../orders/entities/patient-link.entity.js';
import { PatientLocation } from '../orders/entities/patient-location.entity.js';
import { Prescription } from '../orders/entities/prescription.entity.js';
import { FulfilmentConfigurationError, FulfilmentNotFoundError, OrderStateError } from '../orders/fulfilment-errors.js';
import { toOrderView, type FulfilmentOrderView } from '../orders/order-views.js';
import { OrderPlacementService, isCreateOutcomeUnknown, type PlaceOrderResult } from '../orders/order-placement.service.js';
import { OrderTransitionService } from '../orders/order-transitions.service.js';
import { validateInput, validateParts } from '../validation.js';
import { WebhookRegistration } from '../webhooks/entities/webhook-registration.entity.js';
import { serialiseOnSqlite } from '../orders/sqlite-serialiser.js';
import { insertIfNew } from '../webhooks/webhook-inbox.service.js';
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
import { CARYRX_DEFAULT_SHIPPING_METHOD, orderDeliveryDetails } from './caryrx.wire.js';
import { caryRxObservation } from './caryrx-observation.js';

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
    private readonly transitions: OrderTransitionService,
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
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
    const now = new Date();
    const fresh: PatientLink = { id: randomUUID(), provider: 'caryrx', hostReference: ref, providerPatientId: null, createdAt: now, updatedAt: now };
    await this.write(() => insertIfNew(this.dataSource.manager, PatientLink, fresh, 'id'));
    const link = await this.dataSource.manager.findOneByOrFail(PatientLink, { provider: 'caryrx', hostReference: ref });
    if (link.providerPatientId) return link;
    if (link.id !== fresh.id) {
      this.logger.warn(`patient link ${link.id}: an earlier create did not complete; sending it again`);
    }
    try {
      const created = await this.caryrx.createPatient(input);
      link.providerPatientId = created.id;
      link.updatedAt = new Date();
      await this.write(() => this.dataSource.manager.update(PatientLink, { id: link.id }, { providerPatientId: created.id, updatedAt: link.updatedAt }));
      return link;
    } catch (err) {
      // A definite refusal leaves nothing behind; an unknown outcome keeps the link for the next call.
      if (!isCreateOutcomeUnknown(err)) await this.write(() => this.dataSource.manager.delete(PatientLink, { id: link.id, providerPatientId: null as never }));
      throw err;
    }
  }

  /** Registers a delivery location with CaryRx and keeps its id and label (not the address). */
  async addLocation(patient: string, location: CaryRxLocationInput): Promise<PatientLocation> {
    const input = validateInput(CaryRxLocationInputDto, location, 'CaryRx add location');
    const link = await this.linkOf(patient);
    const created = await this.caryrx.createPatientLocation(link.providerPatientId!, input);
    const row: PatientLocation = {
      id: randomUUID(),
      patientLinkId: link.id,
      providerLocationId: created.id,
      label: input.locationName?.slice(0, 64) ?? null,
      createdAt: new Date(),
    };
    await this.write(() => this.dataSource.manager.insert(PatientLocation, row));
    return row;
  }

  /**
   * Development/UAT only (refused in production): creates a simulated prescription and tracks it.
   * Its status arrives with the prescription webhook.
   */
  async createPrescription(input: CaryRxPrescriptionInput): Promise<Prescription> {
    const created = await this.caryrx.createPrescription(input);
    const now = new Date();
    await this.write(() =>
      insertIfNew(
        this.dataSource.manager,
        Prescription,
        {
          id: randomUUID(),
          provider: 'caryrx',
          providerPrescriptionId: created.id,
          providerPatientId: input.patientId,
          status: null,
          providerUpdatedAt: null,
          createdAt: now,
          updatedAt: now,
        },
        'id',
      ),
    );
    // The webhook may have stored it first: return whichever row exists.
    return this.dataSource.manager.findOneByOrFail(Prescription, { provider: 'caryrx', providerPrescriptionId: created.id });
  }

  /**
   * Places an order through OrderPlacementService: the row is stored with its idempotency key
   * first, then CaryRx is called once, then its id is stored. A timeout leaves the order `unknown`
   * (OrderOutcomeUnknownError), never re-sent; a reused key returns the stored order.
   */
  async placeOrder(request: PlaceCaryRxOrderInput): Promise<PlaceOrderResult> {
    const input = validateInput(PlaceCaryRxOrderInputDto, request, 'CaryRx place order');
    const existing = await this.dataSource.manager.findOneBy(FulfilmentOrder, { idempotencyKey: input.idempotencyKey });
    if (existing) return { order: toOrderView(existing), created: false };

    const link = await this.linkOf(input.patientHostReference);
    const location = await this.dataSource.manager.findOne(PatientLocation, {
      where: [
        { id: input.locationId, patientLinkId: link.id },
        { providerLocationId: input.locationId, patientLinkId: link.id },
      ],
    });
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
      },
      async () => {
        const created = await this.caryrx.createOrder(order);
        return {
          ...caryRxObservation(created.orderStatus ?? 'pending', created.updatedAt, orderDeliveryDetails(created)),
          providerOrderId: created.id,
          providerCreatedAt: created.createdAt,
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
      const registration = await this.storeRegistration(topic, callbackUrl, secretFingerprint(secret));
      const register = topic === 'prescriptions' ? this.caryrx.registerPrescriptionWebhook : this.caryrx.registerOrderWebhook;
      await register.call(this.caryrx, { callbackUrl: withToken(callbackUrl, secret) });
      registrations.push(registration);
    }
    return registrations;
  }

  /**
   * Reads the order at CaryRx and applies what it says through the one transition path (source
   * `sync`). Returns the order as stored afterwards.
   */
  async refreshOrder(orderId: string): Promise<FulfilmentOrderView> {
    const order = await this.dataSource.manager.findOneBy(FulfilmentOrder, { id: orderId, provider: 'caryrx' });
    if (!order) throw new FulfilmentNotFoundError(`CaryRx order ${orderId} not found`);
    if (!order.providerOrderId) {
      throw new OrderStateError(order, `CaryRx order ${orderId} has no CaryRx id (its create outcome is unknown): reconcile it first`);
    }
    const remote = await this.caryrx.getOrder(order.providerOrderId);
    if (!remote.orderStatus) return toOrderView(order);
    const providerOrderId = order.providerOrderId;
    const result = await this.write(() =>
      this.transitions.observe(
        'caryrx',
        providerOrderId,
        caryRxObservation(remote.orderStatus!, remote.updatedAt, orderDeliveryDetails(remote)),
        'sync',
      ),
    );
    return toOrderView(result.order ?? order);
  }

  // --- internals ---------------------------------------------------------------------------------

  private write<T>(work: () => Promise<T>): Promise<T> {
    return serialiseOnSqlite(this.dataSource, work);
  }

  /** A patient link by its local id or the host's reference; it must have a CaryRx id. */
  private async linkOf(patient: string): Promise<PatientLink> {
    const ref = validateInput(HostReferenceDto, { hostReference: patient }, 'CaryRx patient').hostReference;
    const link = await this.dataSource.manager.findOne(PatientLink, {
      where: [
        { provider: 'caryrx', id: ref },
        { provider: 'caryrx', hostReference: ref },
      ],
    });
    if (!link?.providerPatientId) throw new FulfilmentNotFoundError('CaryRx patient not found for that reference (call ensurePatient first)');
    return link;
  }

  private async storeRegistration(topic: CaryRxWebhookTopic, callbackUrl: string, fingerprint: string): Promise<WebhookRegistration> {
    return this.write(() =>
      this.dataSource.transaction(async (manager) => {
        const existing = await manager.findOneBy(WebhookRegistration, { provider: 'caryrx', topic });
        const row: WebhookRegistration = {
          id: existing?.id ?? randomUUID(),
          provider: 'caryrx',
          topic,
          callbackUrl,
          secretFingerprint: fingerprint,
          registeredAt: new Date(),
          confirmedAt: null,
        };
        if (existing) await manager.update(WebhookRegistration, { id: row.id }, row);
        else await manager.insert(WebhookRegistration, row);
        return row;
      }),
    );
  }
}

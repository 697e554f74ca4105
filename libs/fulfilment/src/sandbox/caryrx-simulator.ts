import { SimulatorServer, headerEquals, randomId, type SimRequest, type SimResponse } from './simulator-server.js';

/**
 * An in-process CaryRx Fulfilment API for tests and sandbox mode: every documented endpoint with
 * the documented response shapes, `apikey` auth, in-memory state (it plays the pharmacy, so it does
 * hold patient data, in memory only), webhook callbacks with the documented test payloads, orders
 * that advance through their statuses on a clock or on `advance()`, and the shared fault switches
 * (`addFault`, `webhookFaults`, `releaseHeld`) of SimulatorServer.
 */

export interface CaryRxSimulatorOptions {
  apiKey?: string;
  /** Milliseconds between automatic order steps; 0 (default) leaves stepping to advance(). */
  stepMs?: number;
  random?: () => number;
  /**
   * Off by default, so the simulator answers only what the document shows and code that relies on
   * more fails here rather than against CaryRx. `trackingOnRead`: get order also carries
   * shipment_tracking_url/_eta (the document shows them in events only). `eventTimestamps`: order and
   * prescription events carry `updated_at` (the document's event samples have none).
   */
  undocumented?: { trackingOnRead?: boolean; eventTimestamps?: boolean };
}

/** The order statuses the simulator walks through, in order. */
export const CARYRX_SIM_ORDER_FLOW = ['pending', 'ready_to_fill', 'filled', 'shipped', 'delivered'] as const;
const TERMINAL = new Set(['delivered', 'delivery_failed', 'cancelled']);
const SHIPPING_METHODS = new Set(['sameday_delivery', '2day_mailorder']);

interface Stamped {
  id: string;
  createdAt: string;
  updatedAt: string;
}
export interface SimCaryRxPatient extends Stamped {
  firstName: string;
  lastName: string;
  dob: string;
  email: string | null;
  phoneNumber: string | null;
}
export interface SimCaryRxLocation extends Stamped {
  patientId: string;
  locationName: string | null;
  street1: string;
  street2: string | null;
  city: string;
  state: string;
  zip: string;
}
export interface SimCaryRxPrescription extends Stamped {
  patientId: string;
  medicationName: string;
  status: string;
  qtyWritten: number;
  refillsWritten: number;
  daysSupply: number;
  /** The pharmacy's Rx number (the document prints a 7-digit number). */
  rxNumber: number;
}
export interface SimCaryRxOrder extends Stamped {
  patientId: string;
  locationId: string;
  prescriptionIds: string[];
  shippingMethod: string;
  centralFill: boolean;
  status: string;
  trackingUrl: string | null;
  trackingEta: string | null;
  /** Per-order switch: the step after `shipped` is `delivery_failed` instead of `delivered`. */
  failDelivery: boolean;
}

const bad = (message: string): SimResponse => ({ status: 400, body: errorBody(message) });
const notFound = (what: string): SimResponse => ({ status: 404, body: errorBody(`${what} not found`) });
function errorBody(message: string) {
  return { error: message, message };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The doc's order-webhook test payload, verbatim (restored spellings). */
export const CARYRX_ORDER_TEST_PAYLOAD = {
  id: 'd1abcxox',
  shipping_method: 'sameday_delivery',
  packaging_method: 'usps_firstclass',
  address_to_name: 'string',
  address_to_street1: 'string',
  address_to_street2: 'string',
  address_to_city: 'string',
  address_to_state: 'string',
  address_to_zip: 'string',
  shipment_tracking_url: 'string',
  shipment_tracking_eta: '2020-12-15T19:56:49.685Z',
  sameday_location_x: 'string',
  sameday_location_y: 'string',
  order_status: 'ready_to_fill',
  prescriptions: [
    { entity_type: 'order', id: 'd0abcdoa', created_at: '2020-12-15T19:56:49.685Z', updated_at: '2020-12-15T19:56:49.686Z' },
  ],
  patient: { entity_type: 'patient', id: 'd0abcdoa', created_at: '2020-12-15T19:56:49.686Z', updated_at: '2020-12-15T19:56:49.686Z' },
} as const;

/** The doc's prescription-webhook test payload, verbatim (restored spellings). */
export const CARYRX_PRESCRIPTION_TEST_PAYLOAD = {
  id: 'test_object',
  status: 'pending',
  source: 'escript',
  medication_name: 'amoxicillian 10mg',
  qty_written: 10,
  last_fill: '01-01-2000',
  days_supply: 10,
  total_tablets_remaining: 10,
  refills_remaining: 0,
  refills_written: 0,
  qty_dispensed: 0,
  patient: { entity_type: 'prescription', id: 'd0abcdoa', created_at: '2020-12-15T09:23:30.097Z', updated_at: '2020-12-15T09:23:30.097Z' },
} as const;

export class CaryRxSimulator extends SimulatorServer {
  readonly apiKey: string;
  readonly patients = new Map<string, SimCaryRxPatient>();
  readonly locations = new Map<string, SimCaryRxLocation>();
  readonly prescriptions = new Map<string, SimCaryRxPrescription>();
  readonly orders = new Map<string, SimCaryRxOrder>();
  /** Registered callback URLs (the last registration per topic wins). */
  readonly callbacks: { prescriptions?: string; orders?: string } = {};

  /** The undocumented additions switched on (see CaryRxSimulatorOptions); may be changed between calls. */
  readonly undocumented: { trackingOnRead: boolean; eventTimestamps: boolean };

  private lastStamp = 0;

  constructor(options: CaryRxSimulatorOptions = {}) {
    const apiKey = options.apiKey ?? 'test-123';
    super({ name: 'CaryRx simulator', authenticate: headerEquals('apikey', apiKey), errorBody, stepMs: options.stepMs, random: options.random });
    this.apiKey = apiKey;
    this.undocumented = { trackingOnRead: false, eventTimestamps: false, ...options.undocumented };
    this.registerRoutes();
  }

  // --- test controls ----------------------------------------------------------------------------

  /**
   * Moves one order (or every open order) one status forward and posts the order event. Returns
   * the ids of the orders that moved.
   */
  advance(orderId?: string): string[] {
    const targets = orderId ? [this.orders.get(orderId)].filter((o) => o !== undefined) : [...this.orders.values()];
    const moved: string[] = [];
    for (const order of targets) {
      if (TERMINAL.has(order.status)) continue;
      const i = CARYRX_SIM_ORDER_FLOW.indexOf(order.status as (typeof CARYRX_SIM_ORDER_FLOW)[number]);
      let next: string = i < 0 ? 'pending' : CARYRX_SIM_ORDER_FLOW[Math.min(i + 1, CARYRX_SIM_ORDER_FLOW.length - 1)];
      if (order.status === 'shipped' && order.failDelivery) next = 'delivery_failed';
      this.setOrderStatus(order.id, next);
      moved.push(order.id);
    }
    return moved;
  }

  /** Sets any status (also ones CaryRx might add) and posts the order event. */
  setOrderStatus(orderId: string, status: string): SimCaryRxOrder {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`CaryRx simulator: no order ${orderId}`);
    order.status = status;
    order.updatedAt = this.stamp();
    if (status === 'shipped' && !order.trackingUrl) {
      order.trackingUrl = `https://tracking.example.test/caryrx/${order.id}`;
      order.trackingEta = new Date(Date.parse(order.updatedAt) + 2 * 24 * 3600_000).toISOString();
    }
    this.notify('orders', this.orderEvent(order));
    return order;
  }

  /** Per-order switch: after `shipped` comes `delivery_failed`. */
  failDelivery(orderId: string, fail = true): void {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`CaryRx simulator: no order ${orderId}`);
    order.failDelivery = fail;
  }

  /** A prescription "received into the pharmacy" for a patient: stored and announced on the prescription webhook. */
  receivePrescription(
    patientId: string,
    details: { medicationName?: string; qtyWritten?: number; refillsWritten?: number; daysSupply?: number; status?: string } = {},
  ): SimCaryRxPrescription {
    if (!this.patients.has(patientId)) throw new Error(`CaryRx simulator: no patient ${patientId}`);
    const now = this.stamp();
    const rx: SimCaryRxPrescription = {
      id: this.newId(),
      patientId,
      medicationName: details.medicationName ?? 'atorvastatin',
      status: details.status ?? 'pending',
      qtyWritten: details.qtyWritten ?? 30,
      refillsWritten: details.refillsWritten ?? 0,
      daysSupply: details.daysSupply ?? 30,
      rxNumber: 1231234 + this.prescriptions.size,
      createdAt: now,
      updatedAt: now,
    };
    this.prescriptions.set(rx.id, rx);
    this.notify('prescriptions', this.prescriptionEvent(rx));
    return rx;
  }

  /** Changes a prescription's status (e.g. `verified`) and posts the prescription event. */
  setPrescriptionStatus(prescriptionId: string, status: string): SimCaryRxPrescription {
    const rx = this.prescriptions.get(prescriptionId);
    if (!rx) throw new Error(`CaryRx simulator: no prescription ${prescriptionId}`);
    rx.status = status;
    rx.updatedAt = this.stamp();
    this.notify('prescriptions', this.prescriptionEvent(rx));
    return rx;
  }

  /** GETs of one order so far (the status sync's cost). */
  orderGetCount(orderId: string): number {
    return this.countRequests('GET', `/v1/orders/${orderId}`);
  }

  /** Create-order requests received (including ones a fault answered). */
  orderCreateCount(): number {
    return this.countRequests('POST', '/v1/orders');
  }

  /** The order event body CaryRx would post for this order now. */
  orderEvent(order: SimCaryRxOrder): Record<string, unknown> {
    const location = this.locations.get(order.locationId);
    const patient = this.patients.get(order.patientId);
    return {
      id: order.id,
      shipping_method: order.shippingMethod,
      packaging_method: 'usps_firstclass',
      address_to_name: patient ? `${patient.firstName} ${patient.lastName}` : null,
      address_to_street1: location?.street1 ?? null,
      address_to_street2: location?.street2 ?? null,
      address_to_city: location?.city ?? null,
      address_to_state: location?.state ?? null,
      address_to_zip: location?.zip ?? null,
      shipment_tracking_url: order.trackingUrl,
      shipment_tracking_eta: order.trackingEta,
      sameday_location_x: null,
      sameday_location_y: null,
      order_status: order.status,
      ...this.eventTimestamp(order),
      prescriptions: order.prescriptionIds.map((id) => this.ref('prescription', this.prescriptions.get(id) ?? { id, createdAt: order.createdAt, updatedAt: order.createdAt })),
      patient: patient ? this.ref('patient', patient) : null,
    };
  }

  prescriptionEvent(rx: SimCaryRxPrescription): Record<string, unknown> {
    return { ...this.prescriptionBody(rx), ...this.eventTimestamp(rx) };
  }

  // --- routes ------------------------------------------------------------------------------------

  private registerRoutes(): void {
    this.route('POST', '/v1/prescriptions/events', (req) => this.register('prescriptions', req));
    this.route('POST', '/v1/orders/events', (req) => this.register('orders', req));
    this.route('POST', '/v1/patients', (req) => this.createPatient(req));
    this.route('GET', '/v1/patients/:patientId', (req) => this.getPatient(req.params.patientId));
    this.route('POST', '/v1/patients/:patientId/location', (req) => this.createLocation(req));
    this.route('POST', '/v1/prescriptions', (req) => this.createPrescription(req));
    this.route('GET', '/v1/prescriptions/:prescriptionId', (req) => this.getPrescription(req.params.prescriptionId));
    this.route('POST', '/v1/orders', (req) => this.createOrder(req));
    this.route('GET', '/v1/orders/:orderId', (req) => this.getOrder(req.params.orderId));
  }

  private register(topic: 'prescriptions' | 'orders', req: SimRequest): SimResponse {
    const b = req.body;
    if (!isObj(b) || !isStr(b.callbackUrl) || !/^https?:\/\//.test(b.callbackUrl)) return bad('callbackUrl must be an http(s) URL');
    if (b.authType !== undefined && b.authType !== 'none') return bad('authType must be none');
    this.callbacks[topic] = b.callbackUrl;
    // On registration CaryRx posts its test payload to the new callback.
    this.sendWebhook(b.callbackUrl, topic === 'prescriptions' ? CARYRX_PRESCRIPTION_TEST_PAYLOAD : CARYRX_ORDER_TEST_PAYLOAD);
    return { status: 200, body: { callbackUrl: b.callbackUrl, authType: 'none' } };
  }

  private createPatient(req: SimRequest): SimResponse {
    const b = req.body;
    if (!isObj(b)) return bad('body must be an object');
    for (const field of ['first_name', 'last_name', 'dob']) if (!isStr(b[field])) return bad(`${field} is required`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(b.dob as string)) return bad('dob must be YYYY-MM-DD');
    if (b.email !== undefined && (typeof b.email !== 'string' || !b.email.includes('@'))) return bad('email is invalid');
    if (b.phone_number !== undefined && (typeof b.phone_number !== 'string' || !/^\d{10}$/.test(b.phone_number))) return bad('phone_number is invalid');
    const now = this.stamp();
    const patient: SimCaryRxPatient = {
      id: this.newId(),
      firstName: b.first_name as string,
      lastName: b.last_name as string,
      dob: b.dob as string,
      email: (b.email as string | undefined) ?? null,
      phoneNumber: (b.phone_number as string | undefined) ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.patients.set(patient.id, patient);
    return { status: 201, body: this.ref('patient', patient) };
  }

  private getPatient(patientId: string): SimResponse {
    const p = this.patients.get(patientId);
    if (!p) return notFound('patient');
    return {
      status: 200,
      body: {
        first_name: p.firstName,
        last_name: p.lastName,
        dob: p.dob,
        state: null,
        cary_patient: false,
        id: p.id,
        pause_interventions: false,
        tags: [],
        prescriptions: [...this.prescriptions.values()].filter((r) => r.patientId === p.id).map((r) => this.ref('prescription', r)),
        orders: [...this.orders.values()].filter((o) => o.patientId === p.id).map((o) => this.ref('order', o)),
        contact_info: [],
      },
    };
  }

  private createLocation(req: SimRequest): SimResponse {
    const patientId = req.params.patientId;
    if (!this.patients.has(patientId)) return notFound('patient');
    const b = req.body;
    if (!isObj(b)) return bad('body must be an object');
    if (b.patientId !== undefined && b.patientId !== patientId) return bad('patientId does not match the path');
    for (const field of ['address_to_street1', 'address_to_city', 'address_to_state', 'address_to_zip']) {
      if (!isStr(b[field])) return bad(`${field} is required`);
    }
    for (const [field, limit] of [['address_to_latitude', 90], ['address_to_longitude', 180]] as const) {
      if (b[field] !== undefined && (!isNum(b[field]) || Math.abs(b[field] as number) > limit)) return bad(`${field} is invalid`);
    }
    const now = this.stamp();
    const location: SimCaryRxLocation = {
      id: this.newId(),
      patientId,
      locationName: typeof b.locationName === 'string' ? b.locationName : null,
      street1: b.address_to_street1 as string,
      street2: typeof b.address_to_street2 === 'string' ? b.address_to_street2 : null,
      city: b.address_to_city as string,
      state: b.address_to_state as string,
      zip: b.address_to_zip as string,
      createdAt: now,
      updatedAt: now,
    };
    this.locations.set(location.id, location);
    return { status: 201, body: this.ref('patientlocation', location) };
  }

  private createPrescription(req: SimRequest): SimResponse {
    const b = req.body;
    if (!isObj(b)) return bad('body must be an object');
    if (!isStr(b.patientId)) return bad('patientId is required');
    if (!this.patients.has(b.patientId)) return bad('patientId is not a known patient');
    if (!isStr(b.medication_name)) return bad('medication_name is required');
    for (const field of ['qty_written', 'refills_written', 'days_supply']) if (!isNum(b[field])) return bad(`${field} must be a number`);
    const rx = this.receivePrescription(b.patientId, {
      medicationName: b.medication_name,
      qtyWritten: b.qty_written as number,
      refillsWritten: b.refills_written as number,
      daysSupply: b.days_supply as number,
    });
    return { status: 201, body: this.ref('prescription', rx) };
  }

  private getPrescription(prescriptionId: string): SimResponse {
    const rx = this.prescriptions.get(prescriptionId);
    return rx ? { status: 200, body: this.prescriptionBody(rx) } : notFound('prescription');
  }

  private createOrder(req: SimRequest): SimResponse {
    const b = req.body;
    if (!isObj(b)) return bad('body must be an object');
    const shipping = b.shipping_method ?? 'sameday_delivery';
    if (typeof shipping !== 'string' || !SHIPPING_METHODS.has(shipping)) return bad('shipping_method is not supported');
    if (!isStr(b.patient_id) || !this.patients.has(b.patient_id)) return bad('patient_id is not a known patient');
    const location = isStr(b.patient_location_id) ? this.locations.get(b.patient_location_id) : undefined;
    if (!location || location.patientId !== b.patient_id) return bad('patient_location_id is not a location of this patient');
    if (!Array.isArray(b.prescriptions) || b.prescriptions.length === 0) return bad('prescriptions must list at least one prescription');
    const ids: string[] = [];
    for (const p of b.prescriptions) {
      if (!isObj(p) || !isStr(p.id)) return bad('prescriptions[].id is required');
      const rx = this.prescriptions.get(p.id);
      if (!rx || rx.patientId !== b.patient_id) return bad('prescriptions[].id is not a prescription of this patient');
      ids.push(p.id);
    }
    for (const field of ['patient_delivery_note', 'patient_pharmacy_note']) {
      if (b[field] !== undefined && b[field] !== null && typeof b[field] !== 'string') return bad(`${field} must be a string`);
    }
    if (b.central_fill !== undefined && typeof b.central_fill !== 'boolean') return bad('central_fill must be a boolean');
    const now = this.stamp();
    const order: SimCaryRxOrder = {
      id: this.newId(),
      patientId: b.patient_id,
      locationId: location.id,
      prescriptionIds: ids,
      shippingMethod: shipping,
      centralFill: b.central_fill === true,
      status: 'pending',
      trackingUrl: null,
      trackingEta: null,
      failDelivery: false,
      createdAt: now,
      updatedAt: now,
    };
    this.orders.set(order.id, order);
    const patient = this.patients.get(order.patientId)!;
    return {
      status: 201,
      body: {
        id: order.id,
        shipping_method: order.shippingMethod,
        delivery_schedule: order.shippingMethod === '2day_mailorder' ? 'mailorder' : 'sameday',
        patient_location_id: location.id,
        address_to_street1: location.street1,
        address_to_street2: location.street2,
        address_to_city: location.city,
        address_to_state: location.state,
        address_to_zip: location.zip,
        order_status: order.status,
        prescriptions: ids.map((id) => this.ref('prescription', this.prescriptions.get(id)!)),
        patient: this.ref('patient', patient),
      },
    };
  }

  private getOrder(orderId: string): SimResponse {
    const order = this.orders.get(orderId);
    if (!order) return notFound('order');
    return {
      status: 200,
      body: {
        id: order.id,
        shipping_method: order.shippingMethod,
        packaging_method: 'usps_firstclass',
        order_status: order.status,
        created_at: order.createdAt,
        // The doc prints `updatedat` here (camelCase), unlike `updated_at` elsewhere.
        updatedAt: order.updatedAt,
        flags: null,
        ...(this.undocumented.trackingOnRead ? { shipment_tracking_url: order.trackingUrl, shipment_tracking_eta: order.trackingEta } : {}),
        prescriptions: order.prescriptionIds.map((id) => {
          const rx = this.prescriptions.get(id);
          return { ...this.ref('prescription', rx ?? { id, createdAt: order.createdAt, updatedAt: order.createdAt }), prescription: rx?.medicationName ?? null, is_refill: false };
        }),
        patient: { entity_type: 'patient', id: order.patientId },
        activationCode: null,
      },
    };
  }

  // --- helpers -----------------------------------------------------------------------------------

  private prescriptionBody(rx: SimCaryRxPrescription): Record<string, unknown> {
    return {
      id: rx.id,
      source: 'escript',
      status: rx.status,
      medication_name: rx.medicationName,
      last_fill: null,
      days_supply: rx.daysSupply,
      qty_written: rx.qtyWritten,
      total_tablets_remaining: rx.qtyWritten,
      refills_remaining: rx.refillsWritten,
      qty_dispensed: 0,
      refills_written: rx.refillsWritten,
      prior_auth_status: null,
      rx_number: rx.rxNumber,
      prior_auth_last_update: null,
      auto_refill: false,
      payment_token: null,
      external_id: null,
      patient: { entity_type: 'patient', id: rx.patientId },
      // The document's sample prescriber; its null fields stay null.
      prescriber: {
        prescriber_name: 'peter brown',
        prescriber_clinic: 'test hospital',
        prescriber_address: '1 street',
        prescriber_address2: 'room 203',
        prescriber_city: 'washington',
        prescriber_state: 'dc',
        prescriber_zip: '20001',
        prescriber_phone: null,
        prescriber_fax: null,
        prescriber_npi: null,
        prescriber_dea: null,
      },
    };
  }

  /** Not in the document's event samples: the timestamp that lets a receiver order the events, when switched on. */
  private eventTimestamp(o: Pick<Stamped, 'updatedAt'>): { updated_at?: string } {
    return this.undocumented.eventTimestamps ? { updated_at: o.updatedAt } : {};
  }

  private ref(entityType: string, o: Pick<Stamped, 'id' | 'createdAt' | 'updatedAt'>) {
    return { entity_type: entityType, id: o.id, created_at: o.createdAt, updated_at: o.updatedAt };
  }

  private notify(topic: 'prescriptions' | 'orders', body: unknown): void {
    const url = this.callbacks[topic];
    if (url) this.sendWebhook(url, body);
  }

  /** 10-character lowercase alphanumeric, as the doc's ids (`wuyhosgwuc`). */
  private newId(): string {
    let id: string;
    do id = randomId(10, this.random);
    while (this.patients.has(id) || this.locations.has(id) || this.prescriptions.has(id) || this.orders.has(id));
    return id;
  }

  /** Strictly increasing ISO timestamps, so every change is newer than the one before. */
  private stamp(): string {
    const now = Math.max(Date.now(), this.lastStamp + 1);
    this.lastStamp = now;
    return new Date(now).toISOString();
  }
}

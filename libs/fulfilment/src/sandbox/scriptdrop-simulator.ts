import {
  SCRIPTDROP_CANCELLABLE_STATUSES,
  SCRIPTDROP_COVERAGE_TYPES,
  SCRIPTDROP_DELIVERY_INFORMATION_QUERY,
  SCRIPTDROP_MESSAGES,
  SCRIPTDROP_SERVICE_LEVELS,
  SCRIPTDROP_SIGNATURES,
  errorToWire,
  requestFromWire,
  wirePath,
  wireWords,
} from '../scriptdrop/scriptdrop.wire.js';
import { SCRIPTDROP_SATURDAY_RULE_MESSAGE, ScriptDropAddPrescriptionDto, ScriptDropOrderInputDto } from '../scriptdrop/scriptdrop.dto.js';
import { FulfilmentValidationError } from '../orders/fulfilment-errors.js';
import { MAX_INPUT_DEPTH, tooDeepPath, validateInput } from '../validation.js';
import { SimulatorServer, headerEquals, randomId, type SimRequest, type SimResponse } from './simulator-server.js';

/**
 * An in-process ScriptDrop Delivery API for tests and sandbox mode: every documented endpoint with
 * the document's response bodies, HTTP Basic auth, `{"error":{"message"}}` errors (with the
 * document's two named 400s), orders that move through their statuses on a clock (`stepMs`) or on
 * `advance()`, and the shared fault switches of SimulatorServer (`addFault`: 429, 5xx, latency,
 * hang).
 *
 * Built for volume (a benchmark syncs 10,000–100,000 orders through it): orders live in a Map by
 * id, open ones in a Set, a multi-get of 50 ids is 50 lookups, and reads are counted per order id in
 * a Map (`readCount`), so nothing scans all orders per request.
 */

export interface ScriptDropSimulatorOptions {
  apiKey?: string;
  apiSecret?: string;
  /** Milliseconds between automatic status steps; 0 (default) leaves stepping to advance(). */
  stepMs?: number;
  /** Keep every create body received (`createBodies`); default true. Turn off for big benchmarks. */
  recordCreateBodies?: boolean;
  /**
   * The key the cancellation reason is sent under: `reason` (the document's example, default) or
   * `cancellation_reason` (its table).
   */
  cancellationReasonKey?: 'reason' | 'cancellation_reason';
  random?: () => number;
}

/** Status walks per service level. */
export const SCRIPTDROP_SIM_COURIER_FLOW = ['new', 'submitted to courier', 'picked_up', 'delivered'] as const;
export const SCRIPTDROP_SIM_FAILED_FLOW = ['new', 'submitted to courier', 'picked_up', 'delivery_attempted', 'returned_to_pharmacy'] as const;
export const SCRIPTDROP_SIM_SHIPPING_FLOW = ['new', 'delivered'] as const;
const TERMINAL = new Set(['delivered', 'returned_to_pharmacy', 'cancelled']);

export interface SimScriptDropShipping {
  carrier: string;
  carrierService: string;
  trackingNumber: string;
  trackingUrl: string;
  labelPdf: string;
  cost: number;
  saturdayDelivery: boolean;
  deliveredAt: string | null;
}

export interface SimScriptDropOrder {
  id: string;
  serviceLevel: string;
  externalReferenceNumber: string | null;
  status: string;
  /** Rx numbers on the order. */
  prescriptionNumbers: string[];
  photoIdRequired: boolean;
  /** Per-order switch: after `picked_up` comes `delivery_attempted`, then `returned_to_pharmacy`. */
  failDelivery: boolean;
  pickupAt: string | null;
  deliveryAt: string | null;
  returnAt: string | null;
  cancelledAt: string | null;
  cancellationReason: string | null;
  eta: { arrivalAt: string; type: 'pickup' | 'delivery' } | null;
  shipping: SimScriptDropShipping | null;
  createdAt: string;
}

const bad = (message: string): SimResponse => ({ status: 400, body: errorToWire(message) });
const notFound = (message = 'Not Found'): SimResponse => ({ status: 404, body: errorToWire(message) });

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * What ScriptDrop refuses in a create-order or add-prescription body: every documented rule, checked
 * by the client's own DTOs (scriptdrop.dto.ts) on the body read back as domain input (its keys in
 * camelCase, requestFromWire). Returns ScriptDrop's message for the first broken rule, in wire
 * spelling (`shipping.carrier_service must be a service of the chosen carrier`), or the document's
 * own message for the saturday-delivery rule; undefined when the body is acceptable.
 */
function refusal(dto: new () => object, body: unknown, operation: string): string | undefined {
  if (!isObj(body)) return 'Body must be a JSON object';
  const deep = tooDeepPath(body);
  if (deep) return `${wirePath(deep)} must not nest deeper than ${MAX_INPUT_DEPTH} levels`;
  try {
    validateInput(dto, requestFromWire(body), operation);
    return undefined;
  } catch (err) {
    if (!(err instanceof FulfilmentValidationError) || err.fields.length === 0) throw err;
    if (err.fields.some((f) => f.path === 'shipping.saturdayDelivery' && f.message === SCRIPTDROP_SATURDAY_RULE_MESSAGE)) {
      return SCRIPTDROP_MESSAGES.noSaturdayDelivery;
    }
    const [first] = err.fields;
    return `${wirePath(first.path)} ${wireWords(first.message)}`;
  }
}

const checkCreate = (body: unknown) => refusal(ScriptDropOrderInputDto, body, 'ScriptDrop simulator create order');
const checkAddPrescription = (body: unknown) => refusal(ScriptDropAddPrescriptionDto, body, 'ScriptDrop simulator add prescription');

/** Get Delivery Information's query: the drop-off address is required, the options take their documented values. */
function checkDeliveryInformation(query: URLSearchParams): string | undefined {
  const q = SCRIPTDROP_DELIVERY_INFORMATION_QUERY;
  for (const field of ['street', 'city', 'state', 'zipcode'] as const) {
    if (!isStr(query.get(q.address(field)))) return `delivery.address.${field} is required`;
  }
  const pod = query.get(q.pod);
  if (pod !== null && !(SCRIPTDROP_SIGNATURES as readonly string[]).includes(pod)) return 'POD is invalid';
  const pkg = query.get(q.package);
  if (pkg !== null && !(SCRIPTDROP_COVERAGE_TYPES as readonly string[]).includes(pkg)) return 'package is invalid';
  const saturday = query.get(q.saturdayDelivery);
  if (saturday !== null && saturday !== 'true' && saturday !== 'false') return 'saturday.delivery must be a boolean';
  return undefined;
}

/** The last order id handed out in this process, by any ScriptDrop simulator. */
let lastOrderId = 0;

/**
 * Order ids are numeric like ScriptDrop's, increasing, and start from the clock (ms × 1000) rather
 * than a constant: a sandbox restarted on the same database (the sample host's SQLite file, a host's
 * dev database) must not hand out an id an earlier run stored, or the unique
 * (provider, provider_order_id) index refuses the new delivery.
 */
function nextOrderId(): number {
  lastOrderId = Math.max(lastOrderId + 1, Date.now() * 1000);
  return lastOrderId;
}

export class ScriptDropSimulator extends SimulatorServer {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly orders = new Map<string, SimScriptDropOrder>();
  /** Every create body that reached the create route (after auth), in order, as parsed JSON. */
  readonly createBodies: unknown[] = [];
  cancellationReasonKey: 'reason' | 'cancellation_reason';

  private readonly open = new Set<string>();
  private readonly reads = new Map<string, number>();
  private readonly recordCreates: boolean;
  private lastStamp = 0;
  /** The last body seedOrder validated (JSON), so repeated seeds of one body are checked once. */
  private lastSeededJson: string | undefined;

  constructor(options: ScriptDropSimulatorOptions = {}) {
    const apiKey = options.apiKey ?? 'pk_myapikey1234';
    const apiSecret = options.apiSecret ?? 'tesk_myapisecret1234';
    super({
      name: 'ScriptDrop simulator',
      authenticate: headerEquals('authorization', `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`, (v) => v.trim()),
      errorBody: (message) => errorToWire(message),
      // Create bodies are kept in createBodies; the shared log keeps method, path and status only.
      recordBodies: false,
      methodNotAllowed: true,
      stepMs: options.stepMs,
      random: options.random,
    });
    this.apiKey = apiKey;
    this.apiSecret = apiSecret;
    this.recordCreates = options.recordCreateBodies ?? true;
    this.cancellationReasonKey = options.cancellationReasonKey ?? 'reason';
    this.registerRoutes();
  }

  // --- test controls ----------------------------------------------------------------------------

  /**
   * Moves one order (or every open order) one status forward. Sameday/ondemand:
   * `new → submitted to courier → picked_up → delivered` (or, with failDelivery,
   * `→ delivery_attempted → returned_to_pharmacy`); shipping: `new → delivered`. Returns the ids moved.
   */
  advance(orderId?: string): string[] {
    const ids = orderId !== undefined ? (this.open.has(orderId) ? [orderId] : []) : [...this.open];
    for (const id of ids) this.step(this.orders.get(id)!);
    return ids;
  }

  /** Per-order switch: the courier fails to deliver (delivery_attempted, then returned_to_pharmacy). */
  failDelivery(orderId: string, fail = true): void {
    this.must(orderId).failDelivery = fail;
  }

  /** Sets any status (also ones ScriptDrop might add), filling the blocks that status shows. */
  setStatus(orderId: string, status: string): SimScriptDropOrder {
    const order = this.must(orderId);
    const now = this.stamp();
    order.status = status;
    if (order.shipping) {
      if (status === 'delivered') order.shipping.deliveredAt ??= now;
    } else if (status === 'submitted to courier') {
      order.eta = { arrivalAt: this.later(now, 30), type: 'pickup' };
    } else if (status === 'picked_up') {
      order.pickupAt ??= now;
      order.eta = { arrivalAt: this.later(now, 45), type: 'delivery' };
    } else if (status === 'delivered' || status === 'delivery_attempted') {
      order.pickupAt ??= now;
      order.deliveryAt ??= now;
      order.eta ??= { arrivalAt: now, type: 'delivery' };
    } else if (status === 'returned_to_pharmacy') {
      order.pickupAt ??= now;
      order.deliveryAt ??= now;
      order.returnAt ??= now;
    }
    if (status === 'cancelled') {
      order.cancelledAt ??= now;
      order.cancellationReason ??= 'Patient no longer wants';
    }
    if (TERMINAL.has(status)) this.open.delete(order.id);
    else this.open.add(order.id);
    return order;
  }

  /** Reads of one order so far: single GETs plus every multi-get that listed it. */
  readCount(orderId: string): number {
    return this.reads.get(orderId) ?? 0;
  }

  /** Forgets the per-order read counts (e.g. between sync rounds). */
  resetReadCounts(): void {
    this.reads.clear();
  }

  /** Create requests received, including ones a fault answered. */
  createCount(): number {
    return this.countRequests('POST', '/api/v1/orders');
  }

  /** Orders not yet delivered, returned or cancelled. */
  openOrderCount(): number {
    return this.open.size;
  }

  /** The wire JSON of an order, exactly as ScriptDrop shows it in its current status. */
  orderView(order: SimScriptDropOrder): Record<string, unknown> {
    const courierDelivery = (): Record<string, unknown> | null => {
      if (!order.deliveryAt) return null;
      const failed = order.status === 'delivery_attempted' || order.status === 'returned_to_pharmacy';
      if (failed) {
        return {
          occurred_at: order.deliveryAt,
          signature_url: null,
          signed_by: null,
          relationship: null,
          other_relationship_description: null,
          recipient_identification: null,
          failure_reason: 'Patient Not Home',
        };
      }
      return {
        occurred_at: order.deliveryAt,
        // Short-lived at ScriptDrop: a new URL on each read.
        signature_url: `https://signatures.scriptdrop.test/${order.id}?expires=${Date.now() + 300_000}&sig=${randomId(16, this.random)}`,
        signed_by: 'John Doe',
        relationship: 'Other',
        other_relationship_description: 'Sibling',
        recipient_identification: order.photoIdRequired
          ? { number: 'TT123456789', jurisdiction_code: 'OH', qualifier: '06', type: 'Driver License ID' }
          : null,
        failure_reason: null,
      };
    };
    const shipping = order.shipping
      ? {
          tracking_number: order.shipping.trackingNumber,
          tracking_url: order.shipping.trackingUrl,
          carrier: order.shipping.carrier,
          carrier_service: order.shipping.carrierService,
          label_pdf: order.shipping.labelPdf,
          saturday_delivery: order.shipping.saturdayDelivery,
          cost: order.shipping.cost,
          ...(order.shipping.deliveredAt ? { delivery: { occurred_at: order.shipping.deliveredAt } } : {}),
        }
      : null;
    return {
      id: order.id,
      external_reference_number: order.externalReferenceNumber,
      status: order.status,
      // Pickup and delivery blocks are not returned for shipping orders.
      pickup: !order.shipping && order.pickupAt ? { occurred_at: order.pickupAt } : null,
      delivery: order.shipping ? null : courierDelivery(),
      return: order.returnAt ? { occurred_at: order.returnAt } : null,
      shipping,
      cancellation: order.cancelledAt ? { occurred_at: order.cancelledAt, [this.cancellationReasonKey]: order.cancellationReason } : null,
      eta: order.eta ? { arrival_at: order.eta.arrivalAt, type: order.eta.type } : null,
    };
  }

  // --- routes ------------------------------------------------------------------------------------

  private registerRoutes(): void {
    this.route('POST', '/api/v1/orders', (req) => this.createOrder(req));
    this.route('GET', '/api/v1/orders', (req) => this.getOrders(req));
    this.route('GET', '/api/v1/orders/:id', (req) => {
      const order = this.orders.get(req.params.id);
      if (!order) return notFound('Order not found');
      this.countRead(order.id);
      return { status: 200, body: { order: this.orderView(order) } };
    });
    this.route('DELETE', '/api/v1/orders/:id', (req) => {
      const order = this.orders.get(req.params.id);
      if (!order) return notFound('Order not found');
      if (!(SCRIPTDROP_CANCELLABLE_STATUSES as readonly string[]).includes(order.status)) return bad(SCRIPTDROP_MESSAGES.notCancellable);
      order.cancellationReason = 'Patient no longer wants';
      this.setStatus(order.id, 'cancelled');
      return { status: 204 };
    });
    this.route('POST', '/api/v1/orders/:id/prescriptions', (req) => {
      const order = this.orders.get(req.params.id);
      if (!order) return notFound('Order not found');
      const problem = checkAddPrescription(req.body);
      if (problem) return bad(problem);
      const number = (req.body as { number: string }).number;
      if (!order.prescriptionNumbers.includes(number)) order.prescriptionNumbers.push(number);
      return { status: 200, body: { order: this.orderView(order) } };
    });
    this.route('DELETE', '/api/v1/orders/:id/prescriptions/:rxNumber', (req) => {
      const order = this.orders.get(req.params.id);
      if (!order) return notFound('Order not found');
      const i = order.prescriptionNumbers.indexOf(req.params.rxNumber);
      if (i < 0) return notFound('Prescription not found');
      order.prescriptionNumbers.splice(i, 1);
      return { status: 204 };
    });
    // The document's answer here is "TBD": this shape is the simulator's own invention.
    this.route('GET', '/api/v1/pharmacies/:id', (req) => {
      const id = req.params.id;
      if (!/^(\d{10}|\d{7})$/.test(id)) return notFound('Pharmacy not found');
      const problem = checkDeliveryInformation(req.query);
      if (problem) return bad(problem);
      return {
        status: 200,
        body: { pharmacy: { id, service_levels: [...SCRIPTDROP_SERVICE_LEVELS], carriers: ['USPS', 'UPS', 'FedEx'], saturday_delivery: true } },
      };
    });
  }

  private createOrder(req: SimRequest): SimResponse {
    if (this.recordCreates) this.createBodies.push(req.body);
    const problem = checkCreate(req.body);
    if (problem) return bad(problem);
    return { status: 200, body: { order: this.orderView(this.insert(req.body as Record<string, any>)) } };
  }

  /**
   * Adds an order straight into the simulator, without HTTP or the request log (e.g. to prepare
   * 100,000 orders for a sync benchmark). The body is a create-order body (wire spelling). `id`
   * chooses the order's id (to match rows a test wrote itself); by default the next free one.
   */
  seedOrder(body: Record<string, unknown>, options: { id?: string } = {}): SimScriptDropOrder {
    // Full validation costs ~0.6 ms; a benchmark seeds 100,000 copies of one body, checked once.
    const json = isObj(body) && !tooDeepPath(body) ? JSON.stringify(body) : undefined;
    if (json === undefined || json !== this.lastSeededJson) {
      const problem = checkCreate(body);
      if (problem) throw new Error(`ScriptDrop simulator: ${problem}`);
      this.lastSeededJson = json;
    }
    if (options.id !== undefined && this.orders.has(options.id)) throw new Error(`ScriptDrop simulator: order ${options.id} exists already`);
    return this.insert(body as Record<string, any>, options.id);
  }

  private insert(body: Record<string, any>, chosenId?: string): SimScriptDropOrder {
    const now = this.stamp();
    const serial = nextOrderId();
    const id = chosenId ?? String(serial);
    const shipping = body.service_level === 'shipping' ? (body.shipping as Record<string, any>) : undefined;
    const trackingNumber = shipping ? `92055902586670${String(serial % 100_000_000).padStart(8, '0')}` : '';
    const order: SimScriptDropOrder = {
      id,
      serviceLevel: String(body.service_level ?? 'sameday'),
      externalReferenceNumber: typeof body.external_reference_number === 'string' ? body.external_reference_number : null,
      status: 'new',
      prescriptionNumbers: (body.prescriptions as Array<{ number: string }>).map((rx) => rx.number),
      photoIdRequired: body.photo_id_required === true,
      failDelivery: false,
      pickupAt: null,
      deliveryAt: null,
      returnAt: null,
      cancelledAt: null,
      cancellationReason: null,
      eta: null,
      shipping: shipping
        ? {
            carrier: String(shipping.carrier),
            carrierService: String(shipping.carrier_service),
            trackingNumber,
            trackingUrl: `https://tools.usps.com/go/TrackConfirmAction?tLabels=${trackingNumber}`,
            labelPdf: `https://labels.scriptdrop.test/${id}/label.pdf`,
            cost: 7.49,
            saturdayDelivery: shipping.saturday_delivery === true,
            deliveredAt: null,
          }
        : null,
      createdAt: now,
    };
    this.orders.set(id, order);
    this.open.add(id);
    return order;
  }

  /** `GET /api/v1/orders?ids[]=1&ids[]=2` → `{"orders": [...]}`; unknown ids are left out. */
  private getOrders(req: SimRequest): SimResponse {
    const ids = [...req.query.getAll('ids[]'), ...req.query.getAll('ids')];
    if (ids.length === 0) return bad('ids is required');
    const orders: Array<Record<string, unknown>> = [];
    for (const id of new Set(ids)) {
      const order = this.orders.get(id);
      if (!order) continue;
      this.countRead(id);
      orders.push(this.orderView(order));
    }
    return { status: 200, body: { orders } };
  }

  // --- internals ---------------------------------------------------------------------------------

  private step(order: SimScriptDropOrder): void {
    const flow: readonly string[] = order.shipping
      ? SCRIPTDROP_SIM_SHIPPING_FLOW
      : order.failDelivery
        ? SCRIPTDROP_SIM_FAILED_FLOW
        : SCRIPTDROP_SIM_COURIER_FLOW;
    const i = flow.indexOf(order.status);
    // A status outside the walk (set by a test) continues from its end.
    const next = i < 0 ? flow[flow.length - 1] : flow[Math.min(i + 1, flow.length - 1)];
    if (next !== order.status) this.setStatus(order.id, next);
    else this.open.delete(order.id);
  }

  private countRead(id: string): void {
    this.reads.set(id, (this.reads.get(id) ?? 0) + 1);
  }

  private must(orderId: string): SimScriptDropOrder {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`ScriptDrop simulator: no order ${orderId}`);
    return order;
  }

  /** Strictly increasing ISO timestamps, so every step is newer than the one before. */
  private stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }

  private later(iso: string, minutes: number): string {
    return new Date(Date.parse(iso) + minutes * 60_000).toISOString();
  }
}

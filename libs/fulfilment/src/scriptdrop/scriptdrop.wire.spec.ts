import 'reflect-metadata';
import { describe, it, expect } from '@jest/globals';
import { SCRIPTDROP_STATUS_TABLE, scriptDropObservation } from './scriptdrop-observation.js';
import { validateInput } from '../validation.js';
import { ScriptDropOrderInputDto } from './scriptdrop.dto.js';
import {
  SCRIPTDROP_IDENTIFICATION_QUALIFIERS,
  addPrescriptionToWire,
  SCRIPTDROP_ORDER_STATUSES,
  cancellationFromWire,
  orderFromWire,
  orderOfEnvelope,
  orderToWire,
  ordersOfEnvelope,
  prescriptionToWire,
  recipientIdentificationFromWire,
} from './scriptdrop.wire.js';
import { SCRIPTDROP_DOC_INPUT, SCRIPTDROP_DOC_WIRE, docAddPrescription, docPrescription } from '../../../../test/fixtures/scriptdrop-examples.js';

describe('ScriptDrop wire mapping', () => {
  it('sends date_of_service in a create-order prescription only, as the two tables list it', () => {
    const { date_of_service, ...addBody } = prescriptionToWire(docPrescription());
    expect(date_of_service).toBe('2019-02-03');
    expect(addPrescriptionToWire(docAddPrescription())).toEqual(addBody);
    expect(addPrescriptionToWire(docPrescription())).not.toHaveProperty('date_of_service');
  });

  it('keeps `submitted to courier` with its spaces and maps every documented status onto the state machine', () => {
    const order = orderFromWire({
      id: '1234',
      external_reference_number: null,
      status: 'submitted to courier',
      pickup: null,
      delivery: null,
      return: null,
      shipping: null,
      eta: { arrival_at: '2023-10-11T15:40:40.765721Z', type: 'pickup' },
      cancellation: null,
    });
    expect(order.status).toBe('submitted to courier');
    expect(order.eta).toEqual({ arrivalAt: new Date('2023-10-11T15:40:40.765Z'), type: 'pickup' });
    expect(SCRIPTDROP_STATUS_TABLE[order.status]?.status).toBe('accepted');
    expect(SCRIPTDROP_ORDER_STATUSES.map((s) => SCRIPTDROP_STATUS_TABLE[s]?.status)).toEqual([
      'accepted',
      'accepted',
      'in_transit',
      'delivered',
      'delivery_failed',
      'returned',
      'cancelled',
    ]);
  });

  it('keeps an unknown status verbatim', () => {
    expect(orderFromWire({ id: 7, status: 'rerouted_to_locker' }).status).toBe('rerouted_to_locker');
    expect(orderFromWire({ id: 7, status: 'rerouted_to_locker' }).id).toBe('7');
  });

  it('reads the cancellation reason from `reason` (examples) and from `cancellation_reason` (table)', () => {
    const fromExample = cancellationFromWire({ occurred_at: '2023-10-17T10:15:08.773523Z', reason: 'Courier Company Reassignment' });
    const fromTable = cancellationFromWire({ occurred_at: '2023-10-17T10:15:08.773523Z', cancellation_reason: 'Pharmacy Closed' });
    expect(fromExample).toEqual({ occurredAt: new Date('2023-10-17T10:15:08.773Z'), reason: 'Courier Company Reassignment' });
    expect(fromTable).toEqual({ occurredAt: new Date('2023-10-17T10:15:08.773Z'), reason: 'Pharmacy Closed' });
    expect(cancellationFromWire({ occurred_at: null })).toEqual({ occurredAt: null, reason: null });
    expect(cancellationFromWire(null)).toBeNull();
  });

  it('describes every recipient identification qualifier from the table', () => {
    expect(Object.keys(SCRIPTDROP_IDENTIFICATION_QUALIFIERS)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
    expect(
      recipientIdentificationFromWire({ number: 'TT123456789', jurisdiction_code: 'OH', qualifier: '06', type: 'Driver License ID' }),
    ).toEqual({
      number: 'TT123456789',
      jurisdictionCode: 'OH',
      qualifier: '06',
      type: 'Driver License ID',
      qualifierDescription: 'Driver’s License ID',
    });
    expect(recipientIdentificationFromWire({ qualifier: '01' })?.qualifierDescription).toBe('Military ID');
    expect(recipientIdentificationFromWire({ qualifier: '08' })?.qualifierDescription).toBe('Tribal ID');
    expect(recipientIdentificationFromWire({ qualifier: '99' })?.qualifierDescription).toBeNull();
    expect(recipientIdentificationFromWire(null)).toBeNull();
  });

  it('maps the document’s delivered (courier) example', () => {
    const order = orderFromWire({
      id: '1234',
      external_reference_number: null,
      status: 'delivered',
      pickup: { occurred_at: '2019-01-01T01:00:00Z' },
      delivery: {
        occurred_at: '2019-01-01T02:00:00Z',
        signature_url: 'https://example.com/238947',
        signed_by: 'John Doe',
        relationship: 'Other',
        other_relationship_description: 'Sibling',
        recipient_identification: null,
        failure_reason: null,
      },
      return: null,
      shipping: null,
      cancellation: null,
      eta: { arrival_at: '2023-10-11T15:19:23.085272Z', type: 'delivery' },
    });
    expect(order).toEqual({
      id: '1234',
      status: 'delivered',
      externalReferenceNumber: null,
      pickup: { occurredAt: new Date('2019-01-01T01:00:00Z') },
      delivery: {
        occurredAt: new Date('2019-01-01T02:00:00Z'),
        signatureUrl: 'https://example.com/238947',
        signedBy: 'John Doe',
        relationship: 'Other',
        otherRelationshipDescription: 'Sibling',
        recipientIdentification: null,
        failureReason: null,
      },
      return: null,
      shipping: null,
      cancellation: null,
      eta: { arrivalAt: new Date('2023-10-11T15:19:23.085Z'), type: 'delivery' },
    });
    const observation = scriptDropObservation(order);
    expect(observation.providerTimestamp).toEqual(new Date('2019-01-01T02:00:00Z'));
    expect(observation.eta).toEqual(new Date('2023-10-11T15:19:23.085Z'));
    expect(observation).not.toHaveProperty('signatureUrl');
  });

  it('maps the returned-to-pharmacy example (failure reason, return) and takes the newest timestamp', () => {
    const order = orderFromWire({
      id: '1234',
      status: 'returned_to_pharmacy',
      pickup: { occurred_at: '2019-06-06T15:57:03.672507Z' },
      delivery: {
        failure_reason: 'Patient Not Home',
        occurred_at: '2019-06-06T15:58:11.246000Z',
        other_relationship_description: null,
        signature_url: null,
        recipient_identification: null,
        signed_by: null,
      },
      return: { occurred_at: '2019-06-06T15:59:11.246000Z' },
      shipping: null,
      cancellation: null,
      eta: { arrival_at: '2023-10-11T15:19:23.085272Z', type: 'delivery' },
    });
    expect(order.delivery?.failureReason).toBe('Patient Not Home');
    expect(order.delivery?.relationship).toBeNull();
    expect(order.return).toEqual({ occurredAt: new Date('2019-06-06T15:59:11.246Z') });
    expect(scriptDropObservation(order).providerTimestamp).toEqual(new Date('2019-06-06T15:59:11.246Z'));
  });

  it('maps the shipping example (tracking, label, cost, saturday, delivery)', () => {
    const order = orderFromWire({
      delivery: null,
      external_reference_number: null,
      id: '455',
      pickup: null,
      return: null,
      shipping: {
        carrier: 'USPS',
        carrier_service: 'USPS Priority Mail',
        cost: 7.49,
        delivery: { occurred_at: '2022-02-16T20:44:56.913400Z' },
        saturday_delivery: false,
        label_pdf: '/images/example_shipping_label.png',
        tracking_number: '9205590258667011612249',
        tracking_url: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9205590258667011612249',
      },
      status: 'delivered',
      cancellation: null,
      eta: null,
    });
    expect(order.shipping).toEqual({
      carrier: 'USPS',
      carrierService: 'USPS Priority Mail',
      cost: 7.49,
      delivery: { occurredAt: new Date('2022-02-16T20:44:56.913Z') },
      saturdayDelivery: false,
      labelUrl: '/images/example_shipping_label.png',
      trackingNumber: '9205590258667011612249',
      trackingUrl: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9205590258667011612249',
    });
    expect(scriptDropObservation(order)).toEqual({
      statuses: SCRIPTDROP_STATUS_TABLE,
      providerStatus: 'delivered',
      providerTimestamp: new Date('2022-02-16T20:44:56.913Z'),
      trackingUrl: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9205590258667011612249',
      trackingNumber: '9205590258667011612249',
      eta: undefined,
    });
  });

  it('reads the partial answers (create, add prescription) with the missing blocks as null', () => {
    const wire = orderOfEnvelope({ order: { id: '1234', status: 'new', pickup: null, delivery: null, return: null } });
    expect(wire).toBeDefined();
    const order = orderFromWire(wire!);
    expect(order).toMatchObject({ id: '1234', status: 'new', shipping: null, cancellation: null, eta: null, externalReferenceNumber: null });
    expect(scriptDropObservation(order)).toEqual({ statuses: SCRIPTDROP_STATUS_TABLE, providerStatus: 'new', providerTimestamp: null, trackingUrl: undefined, trackingNumber: undefined, eta: undefined });
    expect(orderOfEnvelope({ order: { status: 'new' } })).toBeUndefined();
    expect(orderOfEnvelope('TBD')).toBeUndefined();
  });

  it('reads get-multiple as `orders` (example) or `objects` (table)', () => {
    expect(ordersOfEnvelope({ orders: [{ id: '1' }, { id: '2' }] })?.map((o) => o.id)).toEqual(['1', '2']);
    expect(ordersOfEnvelope({ objects: [{ id: '3' }] })?.map((o) => o.id)).toEqual(['3']);
    expect(ordersOfEnvelope({ orders: null })).toBeUndefined();
  });

  it('maps the document’s three example inputs to its exact wire bodies', () => {
    for (const level of ['sameday', 'ondemand', 'shipping'] as const) {
      const valid = validateInput(ScriptDropOrderInputDto, SCRIPTDROP_DOC_INPUT[level](), 'test');
      expect(JSON.parse(JSON.stringify(orderToWire(valid)))).toEqual(SCRIPTDROP_DOC_WIRE[level]);
    }
  });
});

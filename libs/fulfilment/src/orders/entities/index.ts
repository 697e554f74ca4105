import { FulfilmentOrder, newFulfilmentOrder } from './fulfilment-order.entity.js';
import { OrderStatusHistory } from './order-status-history.entity.js';
import { PatientLink } from './patient-link.entity.js';
import { PatientLocation } from './patient-location.entity.js';
import { Prescription } from './prescription.entity.js';
import { WebhookInboxEvent } from './webhook-inbox-event.entity.js';
import { WebhookRegistration } from './webhook-registration.entity.js';
import { FulfilmentOutboxEvent } from './outbox-event.entity.js';
// The lease that lets one replica at a time prune (retention).
import { JobLease } from './job-lease.entity.js';

export { FulfilmentOrder, newFulfilmentOrder, OrderStatusHistory, PatientLink, PatientLocation, Prescription, WebhookInboxEvent, WebhookRegistration, FulfilmentOutboxEvent, JobLease };

/** Every entity of the module, for the host's TypeORM `entities` setting. */
export const FULFILMENT_ENTITIES = [
  FulfilmentOrder,
  OrderStatusHistory,
  PatientLink,
  PatientLocation,
  Prescription,
  WebhookInboxEvent,
  WebhookRegistration,
  FulfilmentOutboxEvent,
  JobLease,
];

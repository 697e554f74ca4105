// Retention public API (re-exported by ../index.ts).
export { RetentionService, RETENTION_INTERVAL_NAME, RETENTION_LEASE, type RetentionReport, type RetentionCutoffs } from './retention.service.js';

// Status sync public API (re-exported by ../index.ts).
export { StatusSyncService, STATUS_SYNC_INTERVAL_NAME, type SyncTickReport, type SyncTickRecord } from './status-sync.service.js';
export {
  PROVIDER_STATUS_READERS,
  CaryRxStatusReader,
  ScriptDropStatusReader,
  type ProviderStatusReader,
  type StatusReadContext,
} from './provider-status-readers.js';
export { nextSyncAt, rateLimitPauseMs, type SyncScheduleInput } from '../orders/sync-schedule.js';

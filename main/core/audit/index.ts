/**
 * The audit trail (docs/architecture.md, "The audit trail"): HMAC-chained
 * JSON Lines with a head anchor. Split along its seams: format (records,
 * schemas, MACs, the line reader and the torn-line rule), keys, files, head,
 * tail, writer, seal, verify and reader. This is its public surface.
 */
export {
  AUDIT_GENESIS,
  AUDIT_HEAD_DOMAIN,
  AUDIT_MAC_DOMAIN,
  AUDIT_OUTCOMES,
  AUDIT_RECORD_FIELDS,
  AuditError,
  auditEntrySchema,
  validateAuditEntry,
} from './format';
export { APPROVAL_EVENTS, SECOND_FACTORS, STAFF_ADMIN_ACTIONS, STAFF_EVENTS } from './format';
export type {
  AuditApprovalEntry,
  AuditAttemptEntry,
  AuditEntry,
  AuditExportEntry,
  AuditErrorCode,
  AuditKeyLoadEntry,
  AuditKeyLoadRecord,
  AuditPolicyEntry,
  AuditPolicyRecord,
  AuditProcessorKeyEntry,
  AuditProcessorKeyRecord,
  AuditInput,
  AuditLine,
  AuditOutcome,
  AuditRecord,
  AuditSealRecord,
  AuditStaffEntry,
  AuditStaffRecord,
  SecondFactor,
  AuditStaffAdminEntry,
  AuditStaffAdminRecord,
  KeyLoadAccount,
  StaffAdminAction,
  StaffEvent,
} from './format';
export { auditFilePath, auditHeadPath, auditShippedPath } from './files';
export { parseAuditKeyHex, readAuditKey } from './keys';
export { AuditLog } from './writer';
export { scanTrail } from './scan';
export { auditCheckpointPath, auditHistoryPath } from './scan-files';
export type { TrailScan, TrailVisitor } from './scan';
export type { AuditLogOptions } from './writer';
export { sealAuditFile } from './seal';
export type { AuditSealResult } from './seal';
export { verifyAuditFile } from './verify';
export type { AuditBadRecord, AuditVerifyResult } from './verify';
export { readAuditRecords } from './reader';
export { closeOpenAttempts, OpenAttemptTracker, openAttempts, stoppedOutcomeFor } from './attempts';
export { lossAgainstMark, readMark, trailFileAgainstMark, writeMark } from './mark';
export type { HighWaterMark, TrailLoss } from './mark';
export { AUDIT_RESET_CAUSES } from './format';
export { AuditNothingToReset, diagnoseTrail, resetAuditTrail } from './reset';
export type { AuditResetResult, TrailDiagnosis } from './reset';
export type { AuditAttemptRecord, AuditResetCause, AuditResetRecord } from './format';
export { AUDIT_EXPORT_FORMATS, AuditExportRefusedError, exportAuditTrail, parseAuditExportDate, writeAuditExport } from './export';
export type { AuditExport, AuditExportFilter, AuditExportFormat } from './export';
export { carriesPracticeMark, CUSTODIAN_NAME_PATTERN, custodianIdentity, SHIP_REFUSED_REASONS } from './format';
export type { AuditShipRefusedEntry, AuditShipRefusedRecord, ShipRefusedReason } from './format';
export { AuditShipper } from './ship';
export type { AuditShipStatus, AuditShipperOptions } from './ship';
export { SHIP_PROTOCOLS } from './ship-options';
export type { ShipProtocol } from './ship-options';
export { checkShipKey, loadShipIdentity } from './ship-identity';
export type { ShipKeyCheck } from './ship-identity';

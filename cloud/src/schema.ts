// Every module's tables, gathered for drizzle-kit's migration generator. Modules query only their own.
export * from './modules/directory/tables';
export * from './modules/devices/tables';
export * from './modules/consent/tables';
export * from './modules/ingestion/tables';
export * from './modules/audit/tables';
export * from './modules/identity/tables';
export * from './modules/analytics/tables';
export * from './modules/notification/tables';
export * from './modules/rights/tables';
export * from './platform/scheduler/tables';
export * from './platform/events/tables';
export * from './modules/provisioning/tables';
export * from './modules/keys/tables';
export * from './modules/compliance/tables';
export * from './modules/reporting/tables';

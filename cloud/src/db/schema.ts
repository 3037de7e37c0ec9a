// Every module's tables, gathered for drizzle-kit and the client. Modules query only their own.
export * from '../directory/tables';
export * from '../devices/tables';
export * from '../consent/tables';
export * from '../ingestion/tables';
export * from '../audit/tables';
export * from '../gateway/tables';
export * from '../analytics/tables';
export * from '../notification/tables';
export * from '../rights/tables';

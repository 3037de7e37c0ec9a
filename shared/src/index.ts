export * from './scopes';
export * from './span';
export * from './policy';
export * from './consent';
export * from './directive';
export * from './api';
export * from './canonical';
export * from './ipc';

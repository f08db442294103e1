export * from './config.js';
export * from './http-client.js';
export * from './openai-types.js';
export * from './remote-backend.js';
export * from './remote-model.js';

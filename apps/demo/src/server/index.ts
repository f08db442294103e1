export * from './demo-server.js';
export * from './device-models.js';
export * from './metrics.js';
export * from './openai-error.js';
export * from './request-validation.js';
export * from './served-model.js';

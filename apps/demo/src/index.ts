export * from './device/tiny-llama-backend.js';
export * from './server/index.js';

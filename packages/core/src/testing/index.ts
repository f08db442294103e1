export * from './conformance.js';
export * from './goldens.js';
export * from './random-model.js';
export * from './reference-backend.js';
export * from './reference-model.js';

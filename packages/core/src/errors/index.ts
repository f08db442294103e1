export * from './slm-error.js';

export * from './classification/index.js';
export * from './data/index.js';
export * from './tfjs-backend.js';
export * from './tfjs-model.js';
export * from './tfjs-runtime.js';
export * from './tfjs-sequence.js';
export * from './tokenizer-training/index.js';
export * from './training/index.js';

export * from './classifier-files.js';
export * from './classifier-forward.js';
export * from './distill-classifier.js';
export * from './text-batches.js';
export * from './tfjs-classifier.js';
export * from './train-classifier.js';

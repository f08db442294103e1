export * from './cpu-quota.js';
export * from './model-loader.js';
export * from './read-file.js';

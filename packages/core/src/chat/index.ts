export * from './chat-message.js';
export * from './chat-session.js';
export * from './chat-template.js';

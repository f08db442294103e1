#!/usr/bin/env node
import { main } from './main.js';

// First Ctrl-C aborts the running operation (commands decide what that means); a second one exits.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort(new Error('interrupted'));
});

const code = await main(process.argv.slice(2), { signal: controller.signal });
process.exitCode = code;

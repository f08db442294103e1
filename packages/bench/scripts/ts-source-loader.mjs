// `node --conditions=source --import <this file> worker.ts`: registers ts-source-hooks.mjs (see there).
import { register } from 'node:module';

register('./ts-source-hooks.mjs', import.meta.url);

// A child process for tests that must watch the server alone (its RSS): serves the test model on 127.0.0.1 on a
// free port and prints `listening <url>` on stdout. Run through `spawnTypeScript` (test-process.ts).
import { createDemoServer } from '../server/demo-server.js';
import { loadTestModel } from './test-model.js';

const { model, options } = await loadTestModel();
const server = await createDemoServer({ models: [{ ...options, model }], port: 0 });
const url = await server.listen();
process.stdout.write(`listening ${url} ${options.id}\n`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

import type { ChatEngine, EngineModel } from './chat-engine.js';
import { DeviceEngine } from './device-engine.js';
import { ServerEngine } from './server-engine.js';
import './styles.css';

type Mode = 'server' | 'device';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const ui = {
  modeInputs: Array.from(document.querySelectorAll<HTMLInputElement>('input[name="mode"]')),
  model: byId<HTMLSelectElement>('model'),
  backend: byId<HTMLSelectElement>('backend'),
  status: byId('status'),
  tps: byId('tps'),
  tokens: byId('tokens'),
  memory: byId('memory'),
  system: byId<HTMLInputElement>('system'),
  maxTokens: byId<HTMLInputElement>('max-tokens'),
  temperature: byId<HTMLInputElement>('temperature'),
  raw: byId<HTMLInputElement>('raw'),
  apiKey: byId<HTMLInputElement>('api-key'),
  log: byId('log'),
  form: byId<HTMLFormElement>('composer'),
  input: byId<HTMLTextAreaElement>('input'),
  send: byId<HTMLButtonElement>('send'),
  stop: byId<HTMLButtonElement>('stop'),
  reset: byId<HTMLButtonElement>('reset'),
  benchBox: byId('bench-box'),
  bench: byId('bench'),
  benchRun: byId<HTMLButtonElement>('bench-run'),
};

/** The speed test decodes this many tokens, this many times, and shows the best run. */
const SPEED_TEST_TOKENS = 256;
const SPEED_TEST_RUNS = 3;

const engines: Record<Mode, () => ChatEngine> = {
  server: () => new ServerEngine('', () => ui.apiKey.value.trim()),
  device: () => new DeviceEngine(),
};
let engine: ChatEngine | undefined;
let models: EngineModel[] = [];
let answering: AbortController | undefined;

function setStatus(text: string, state: 'busy' | 'ready' | 'error' = 'busy'): void {
  ui.status.textContent = text;
  document.body.dataset.state = state;
}

function formatBytes(n: number | undefined): string {
  if (n === undefined) return '–';
  return n > 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

function addMessage(role: 'user' | 'assistant' | 'error', text: string): HTMLElement {
  const el = document.createElement('div');
  el.className = `message ${role}`;
  el.dataset.role = role;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  el.append(body);
  ui.log.append(el);
  ui.log.scrollTop = ui.log.scrollHeight;
  return el;
}

async function refreshMemory(): Promise<void> {
  try {
    ui.memory.textContent = formatBytes(await engine?.memoryBytes());
  } catch {
    ui.memory.textContent = '–';
  }
}

async function selectModel(id: string, backend?: string): Promise<void> {
  if (!engine) return;
  const model = models.find((m) => m.id === id);
  if (!model) return;
  const backends = engine.backendsFor(model);
  const chosen = backend && backends.includes(backend) ? backend : backends[0];
  if (chosen === undefined) {
    setStatus(`no runtime in this page can run ${id}`, 'error');
    return;
  }
  ui.backend.replaceChildren(...backends.map((b) => new Option(b, b, b === chosen, b === chosen)));
  ui.backend.disabled = backends.length < 2;
  ui.send.disabled = true;
  delete document.body.dataset.loaded;
  setStatus(`loading ${id} on ${chosen}…`);
  try {
    const note = await engine.select(id, chosen, (text) => setStatus(text));
    const where = engine.mode === 'device' ? 'runs in this page' : 'talks to slm serve';
    setStatus(`ready (${where}${note ? ` on ${note}` : ''})`, 'ready');
    document.body.dataset.loaded = `${id}:${chosen}`;
    ui.benchBox.hidden = engine.speedTest === undefined;
    ui.send.disabled = false;
    void refreshMemory();
  } catch (error) {
    setStatus(`failed: ${(error as Error).message}`, 'error');
  }
}

async function switchMode(mode: Mode): Promise<void> {
  for (const input of ui.modeInputs) input.checked = input.value === mode;
  document.body.dataset.mode = mode;
  engine = engines[mode]();
  ui.log.replaceChildren();
  ui.model.replaceChildren();
  setStatus('listing models…');
  try {
    models = await engine.listModels();
  } catch (error) {
    setStatus(`failed: ${(error as Error).message}`, 'error');
    return;
  }
  for (const m of models) ui.model.append(new Option(m.id, m.id));
  if (models.length === 0) {
    setStatus(
      mode === 'device' ? 'the server offers no model files for this device' : 'the server has no models',
      'error',
    );
    return;
  }
  await selectModel(models[0].id);
}

async function send(): Promise<void> {
  const text = ui.input.value.trim();
  if (!engine || text.length === 0 || answering) return;
  ui.input.value = '';
  addMessage('user', text);
  const bubble = addMessage('assistant', '');
  const body = bubble.querySelector('.text') as HTMLElement;
  let deltas = 0;
  answering = new AbortController();
  ui.send.disabled = true;
  ui.stop.disabled = false;
  setStatus('answering…');
  try {
    const result = await engine.send({
      text,
      system: ui.system.value.trim(),
      maxTokens: Number(ui.maxTokens.value) || 200,
      temperature: Number(ui.temperature.value) || 0,
      raw: ui.raw.checked,
      signal: answering.signal,
      onDelta: (piece, live) => {
        deltas++;
        body.textContent += piece;
        bubble.dataset.deltas = String(deltas);
        ui.tokens.textContent = String(live.tokens);
        if (live.tokensPerSecond > 0) ui.tps.textContent = live.tokensPerSecond.toFixed(0);
        ui.log.scrollTop = ui.log.scrollHeight;
      },
    });
    ui.tps.textContent = result.tokensPerSecond.toFixed(0);
    ui.tps.dataset.value = String(result.tokensPerSecond);
    ui.tokens.textContent = String(result.completionTokens);
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${result.completionTokens} tokens · ${result.tokensPerSecond.toFixed(0)} tokens/s · ${result.cachedPromptTokens}/${result.promptTokens} prompt tokens from cache · ${result.finishReason}`;
    bubble.append(meta);
    bubble.dataset.done = 'true';
    setStatus('ready', 'ready');
  } catch (error) {
    addMessage('error', (error as Error).message);
    setStatus('error', 'error');
  } finally {
    answering = undefined;
    ui.send.disabled = false;
    ui.stop.disabled = true;
    void refreshMemory();
  }
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
ui.input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    void send();
  }
});
ui.stop.addEventListener('click', () => answering?.abort());
ui.benchRun.addEventListener('click', async () => {
  if (!engine?.speedTest || answering) return;
  ui.benchRun.disabled = true;
  ui.send.disabled = true;
  ui.bench.textContent = 'running…';
  try {
    const rates = await engine.speedTest(SPEED_TEST_TOKENS, SPEED_TEST_RUNS);
    const best = Math.max(...rates);
    ui.bench.textContent = `${best.toFixed(0)} tokens/s (best of ${rates.length} × ${SPEED_TEST_TOKENS} tokens: ${rates.map((r) => r.toFixed(0)).join(', ')})`;
    ui.bench.dataset.value = String(best);
    ui.bench.dataset.runs = rates.join(',');
  } catch (error) {
    ui.bench.textContent = `failed: ${(error as Error).message}`;
  } finally {
    ui.benchRun.disabled = false;
    ui.send.disabled = false;
  }
});
ui.reset.addEventListener('click', () => {
  engine?.reset();
  ui.log.replaceChildren();
});
ui.model.addEventListener('change', () => void selectModel(ui.model.value));
ui.backend.addEventListener('change', () => {
  engine?.reset();
  ui.log.replaceChildren();
  void selectModel(ui.model.value, ui.backend.value);
});
for (const input of ui.modeInputs)
  input.addEventListener('change', () => input.checked && void switchMode(input.value as Mode));
setInterval(() => void refreshMemory(), 2000);

const requested = new URLSearchParams(location.search).get('mode');
void switchMode(requested === 'server' ? 'server' : 'device');

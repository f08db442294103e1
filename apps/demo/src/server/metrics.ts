type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return '';
  const quote = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  return `{${entries.map(([k, v]) => `${k}="${quote(v)}"`).join(',')}}`;
}

function withLabel(key: string, extra: string): string {
  return key === '' ? `{${extra}}` : `${key.slice(0, -1)},${extra}}`;
}

class Counter {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.#values) lines.push(`${this.name}${key} ${value}`);
    return lines.join('\n');
  }
}

class Gauge {
  readonly #read: () => ReadonlyArray<[Labels, number]>;
  constructor(
    readonly name: string,
    readonly help: string,
    read: () => ReadonlyArray<[Labels, number]>,
  ) {
    this.#read = read;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [labels, value] of this.#read()) lines.push(`${this.name}${labelKey(labels)} ${value}`);
    return lines.join('\n');
  }
}

class Histogram {
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.#series) {
      this.buckets.forEach((le, i) => {
        lines.push(`${this.name}_bucket${withLabel(key, `le="${le}"`)} ${s.counts[i]}`);
      });
      lines.push(`${this.name}_bucket${withLabel(key, 'le="+Inf"')} ${s.count}`);
      lines.push(`${this.name}_sum${key} ${s.sum}`);
      lines.push(`${this.name}_count${key} ${s.count}`);
    }
    return lines.join('\n');
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The server's Prometheus metrics (text exposition format 0.0.4 at `/metrics`). */
export class ServerMetrics {
  readonly requests = new Counter('slm_http_requests_total', 'HTTP requests by route and status code.');
  readonly promptTokens = new Counter('slm_prompt_tokens_total', 'Prompt tokens received, by model.');
  readonly cachedPromptTokens = new Counter(
    'slm_cached_prompt_tokens_total',
    'Prompt tokens served from the KV cache.',
  );
  readonly completionTokens = new Counter('slm_completion_tokens_total', 'Tokens generated, by model.');
  readonly aborted = new Counter('slm_generations_aborted_total', 'Generations stopped because the client went away.');
  readonly requestDuration = new Histogram('slm_request_duration_seconds', 'HTTP request latency.', LATENCY_BUCKETS);
  readonly timeToFirstToken = new Histogram(
    'slm_time_to_first_token_seconds',
    'Time to the first token.',
    LATENCY_BUCKETS,
  );
  readonly queueWait = new Histogram('slm_queue_wait_seconds', 'Time spent waiting for a free slot.', LATENCY_BUCKETS);
  readonly #gauges: Gauge[] = [];

  addGauge(name: string, help: string, read: () => ReadonlyArray<[Labels, number]>): void {
    this.#gauges.push(new Gauge(name, help, read));
  }

  render(): string {
    const memory = process.memoryUsage();
    const process_ = new Gauge('slm_process_memory_bytes', 'Memory of the server process.', () => [
      [{ kind: 'rss' }, memory.rss],
      [{ kind: 'heap_used' }, memory.heapUsed],
      [{ kind: 'external' }, memory.external],
      [{ kind: 'array_buffers' }, memory.arrayBuffers],
    ]);
    return `${[
      this.requests,
      this.promptTokens,
      this.cachedPromptTokens,
      this.completionTokens,
      this.aborted,
      this.requestDuration,
      this.timeToFirstToken,
      this.queueWait,
      ...this.#gauges,
      process_,
    ]
      .map((m) => m.render())
      .join('\n')}\n`;
  }
}

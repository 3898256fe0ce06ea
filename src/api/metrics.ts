// A small Prometheus text-format registry: request latency histograms, ingest counters, and gauges
// read when /metrics is scraped. Hand-written because the exposition format is a few lines and the
// service must not pull a dependency for it.

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Histogram {
  readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}

  observe(labels: Record<string, string>, v: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

class Counter {
  readonly values = new Map<string, { labels: Record<string, string>; v: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Record<string, string>, by = 1): void {
    const key = labelText(labels);
    const s = this.values.get(key);
    if (s) s.v += by;
    else this.values.set(key, { labels, v: by });
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const s of this.values.values()) out.push(`${this.name}${labelText(s.labels)} ${s.v}`);
    return out;
  }
}

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

export class Metrics {
  readonly requestDuration = new Histogram(
    'lsr_http_request_duration_seconds',
    'HTTP request latency by route, method and status.',
    LATENCY_BUCKETS,
  );
  readonly ingestedDocuments = new Counter('lsr_ingest_documents_total', 'Documents committed by ingest jobs and single writes.');
  readonly rejectedLines = new Counter('lsr_ingest_rejected_lines_total', 'NDJSON lines refused by ingest jobs.');
  readonly searches = new Counter('lsr_searches_total', 'Searches run, by collection and retriever.');
  private readonly gauges: { name: string; help: string; read: () => GaugeSample[] }[] = [];

  /** Registers a gauge whose samples are computed at scrape time. */
  gauge(name: string, help: string, read: () => GaugeSample[]): void {
    this.gauges.push({ name, help, read });
  }

  render(): string {
    const lines = [
      ...this.requestDuration.render(),
      ...this.ingestedDocuments.render(),
      ...this.rejectedLines.render(),
      ...this.searches.render(),
    ];
    for (const g of this.gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const s of g.read()) lines.push(`${g.name}${labelText(s.labels)} ${s.value}`);
    }
    return lines.join('\n') + '\n';
  }
}

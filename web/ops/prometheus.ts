// Prometheus text exposition format 0.0.4: one HELP and TYPE line per family, then its samples.
// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "gauge" | "counter" | "histogram";
export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const escapeLabelValue = (value: string) =>
  value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
export const escapeHelp = (text: string) => text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export class Exposition {
  #lines: string[] = [];
  #families = new Set<string>();

  /** Declares a family; its samples must follow before the next family. */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    if (this.#families.has(name)) throw new Error(`metric family ${name} declared twice`);
    this.#families.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** A sample; null values (nothing measured) are left out. */
  sample(name: string, value: number | null | undefined, labels: Labels = {}): this {
    if (value === null || value === undefined) return this;
    const pairs = Object.entries(labels).map(([key, labelValue]) => {
      if (!LABEL_NAME.test(key)) throw new Error(`invalid label name ${key}`);
      return `${key}="${escapeLabelValue(labelValue)}"`;
    });
    this.#lines.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
    return this;
  }

  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4), as promtool checks it: every
 * line is blank, a `# HELP`/`# TYPE` comment, or `name{label="value",...} value [timestamp]`;
 * each family has one TYPE before its samples; histogram buckets are cumulative and end in +Inf
 * equal to _count. Throws on the first violation, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const lines = text.split("\n");
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with a newline");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const match = line.match(/^# (HELP|TYPE) (\S+)(?: (.*))?$/);
      if (match == null) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`malformed comment, ${where}`);
        return;
      }
      const [, kind, name, rest] = match;
      if (!NAME.test(name!)) throw new Error(`bad metric name, ${where}`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest ?? "")) throw new Error(`unknown type, ${where}`);
        if (types.has(name!)) throw new Error(`second TYPE for ${name}, ${where}`);
        types.set(name!, rest!);
      }
      return;
    }
    samples.push(parseSample(line, where));
  });
  for (const sample of samples) {
    const family = familyOf(sample.name, types);
    if (family == null) throw new Error(`sample ${sample.name} has no TYPE line`);
  }
  checkHistograms(samples, types);
  return { samples, types };
}

function parseSample(line: string, where: string): Sample {
  const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/);
  if (match == null) throw new Error(`not a sample, ${where}`);
  const [, name, labelText, valueText] = match;
  const labels: Record<string, string> = {};
  if (labelText != null) {
    let rest = labelText.slice(1, -1);
    while (rest.length > 0) {
      const label = rest.match(/^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/);
      if (label == null) throw new Error(`bad labels, ${where}`);
      const [whole, labelName, raw, comma] = label;
      if (!LABEL_NAME.test(labelName!)) throw new Error(`bad label name ${labelName}, ${where}`);
      if (labelName! in labels) throw new Error(`duplicate label ${labelName}, ${where}`);
      labels[labelName!] = raw!.replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));
      rest = rest.slice(whole!.length);
      if (comma === "" && rest.length > 0) throw new Error(`labels not comma-separated, ${where}`);
    }
  }
  const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : valueText === "NaN" ? NaN : Number(valueText);
  if (!["+Inf", "-Inf", "NaN"].includes(valueText!) && !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(valueText!)) throw new Error(`bad value, ${where}`);
  return { name: name!, labels, value };
}

function familyOf(name: string, types: Map<string, string>): string | null {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"])
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === "histogram" || types.get(base) === "summary") return base;
    }
  return null;
}

function checkHistograms(samples: Sample[], types: Map<string, string>) {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of samples) {
    const family = familyOf(sample.name, types)!;
    if (types.get(family) !== "histogram" || sample.name.endsWith("_sum")) continue;
    const { le, ...rest } = sample.labels;
    const key = `${family}${JSON.stringify(rest)}`;
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith("_count")) entry.count = sample.value;
    else if (le == null) throw new Error(`${sample.name} bucket without le`);
    else entry.buckets.push([le === "+Inf" ? Infinity : Number(le), sample.value]);
  }
  for (const [key, { buckets, count }] of series) {
    for (let index = 1; index < buckets.length; index++)
      if (buckets[index]![0] <= buckets[index - 1]![0] || buckets[index]![1] < buckets[index - 1]![1]) throw new Error(`${key}: buckets not cumulative`);
    const last = buckets.at(-1);
    if (last == null || last[0] !== Infinity || last[1] !== count) throw new Error(`${key}: +Inf bucket missing or not equal to _count`);
  }
}

/** The value of the one sample with this name and these labels (a subset match); undefined when absent. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

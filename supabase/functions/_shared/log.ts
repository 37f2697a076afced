// One structured JSON logger. Values that could identify a member or unlock something (emails,
// names, tokens, secrets, keys) are redacted before anything is written.

type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

const SENSITIVE_KEY =
  /(secret|token|password|authorization|api[_-]?key|signature|cookie|email|^name$|username|keys?$)/i;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const WHOP_SECRET = /\bws_[A-Za-z0-9]+/g;
const URL_PASSWORD = /(\/\/[^:/\s]+:)[^@\s]+@/g;

export function redactText(text: string): string {
  return text
    .replace(EMAIL, "[email]")
    .replace(BEARER, "$1 [redacted]")
    .replace(WHOP_SECRET, "ws_[redacted]")
    .replace(URL_PASSWORD, "$1[redacted]@");
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (typeof value === "string") return redactText(value);
  if (value instanceof Error) return { type: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map((
        [key, item],
      ) => [key, SENSITIVE_KEY.test(key) ? "[redacted]" : redact(item, depth + 1)]),
    );
  }
  return value;
}

function write(level: Level, msg: string, fields: Fields = {}) {
  const line = JSON.stringify({
    level,
    time: new Date().toISOString(),
    msg: redactText(msg),
    ...(redact(fields) as Fields),
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

export const log = {
  debug: (msg: string, fields?: Fields) => write("debug", msg, fields),
  info: (msg: string, fields?: Fields) => write("info", msg, fields),
  warn: (msg: string, fields?: Fields) => write("warn", msg, fields),
  error: (msg: string, fields?: Fields) => write("error", msg, fields),
};

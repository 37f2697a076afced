// One structured JSON logger. Values that could identify a member or unlock something (emails,
// names, tokens, secrets, keys) are redacted before anything is written. The same redaction scrubs
// what goes to Sentry (sentry.ts).

type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

const SENSITIVE_KEY =
  /(secret|token|password|authorization|api[_-]?key|signature|cookie|email|^name$|(first|last|full|display)_?name|username|phone|dsn|keys?$|cancellation_reason)/i;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const WHOP_SECRET = /\bws_[A-Za-z0-9]+/g;
const URL_PASSWORD = /(\/\/[^:/\s]+:)[^@\s]+@/g;
// A JWT (Whop user tokens): three base64url parts, the first one a JSON object ("eyJ").
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
// `NAME=value` where the name says it is a secret (an env file, a command line).
const SECRET_ASSIGNMENT =
  /\b([A-Z][A-Z0-9_]*(?:SECRET|TOKEN|KEY|KEYS|PASSWORD|DSN))=("[^"]*"|'[^']*'|[^\s,;]+)/g;
// An ENCRYPTION_KEYS entry: `id:<base64 of 32 bytes>`.
const KEY_RING_ENTRY = /\b([A-Za-z0-9_-]{1,32}):[A-Za-z0-9+/]{43}=/g;
// Raw keys (LINK_SIGNING_KEY, CRON_SECRET, OPS_TOKEN are hex): long hex runs never belong in a log.
const LONG_HEX = /\b[0-9a-fA-F]{40,}\b/g;

// The configured secrets themselves, whatever their format: registered by the apps from their
// configuration, and read from the process environment when it may be read.
const SECRET_ENV_NAMES = [
  "WHOP_WEBHOOK_SECRET",
  "WHOP_API_KEY",
  "ENCRYPTION_KEYS",
  "LINK_SIGNING_KEY",
  "CRON_SECRET",
  "OPS_TOKEN",
  "SENTRY_DSN",
] as const;
const MIN_SECRET_LENGTH = 8;
const knownSecrets = new Set<string>();
let processEnvRead = false;

/** Remembers the secret values in `env` (the variables above; lists split at commas) for redaction. */
export function registerSecrets(env: { get(name: string): string | undefined }) {
  for (const name of SECRET_ENV_NAMES) {
    for (const part of (env.get(name) ?? "").split(",")) {
      const value = part.trim();
      // A key ring entry is `id:key`: the key is the secret.
      const secret = name === "ENCRYPTION_KEYS" ? value.slice(value.indexOf(":") + 1) : value;
      if (secret.length >= MIN_SECRET_LENGTH) knownSecrets.add(secret);
    }
  }
}

function readProcessEnvOnce() {
  if (processEnvRead) return;
  processEnvRead = true;
  try {
    registerSecrets(Deno.env);
  } catch {
    // No permission to read the environment: the apps register their configuration themselves.
  }
}

export function redactText(text: string): string {
  readProcessEnvOnce();
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, "[secret]");
  }
  return out
    .replace(JWT, "[jwt]")
    .replace(EMAIL, "[email]")
    .replace(BEARER, "$1 [redacted]")
    .replace(WHOP_SECRET, "ws_[redacted]")
    .replace(URL_PASSWORD, "$1[redacted]@")
    .replace(SECRET_ASSIGNMENT, "$1=[redacted]")
    .replace(KEY_RING_ENTRY, "$1:[redacted]")
    .replace(LONG_HEX, "[hex]");
}

/** Whether a field with this name holds something that must never be written as is. */
export const isSensitiveKey = (key: string) => SENSITIVE_KEY.test(key);

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (typeof value === "string") return redactText(value);
  if (value instanceof Error) return { type: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map((
        [key, item],
      ) => [key, isSensitiveKey(key) ? "[redacted]" : redact(item, depth + 1)]),
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

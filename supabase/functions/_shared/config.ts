// Configuration comes from the environment only (ARCHITECTURE section 8). A missing variable fails
// at start with a message naming it, never later on a request.

/** Anything with `get(name)`: `Deno.env` in production, a Map in tests. */
export interface EnvReader {
  get(name: string): string | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type AppEnv = "local" | "production";

/** Reads the named variables, failing once with every missing name listed. */
export function requireEnv<const K extends string>(env: EnvReader, names: readonly K[]): Record<K, string> {
  const missing = names.filter((name) => !env.get(name)?.trim());
  if (missing.length > 0) {
    throw new ConfigError(
      `Missing required configuration: ${missing.join(", ")}. ` +
        "Set it in the environment (README.md, section Configuration, lists every variable).",
    );
  }
  return Object.fromEntries(names.map((name) => [name, env.get(name)!.trim()])) as Record<K, string>;
}

/** `APP_ENV`: `local` enables development conveniences; anything else must be `production`. */
export function readAppEnv(env: EnvReader): AppEnv {
  const value = env.get("APP_ENV")?.trim() || "production";
  if (value !== "local" && value !== "production") {
    throw new ConfigError(`APP_ENV must be "local" or "production", not "${value}".`);
  }
  return value;
}

/** A TCP port from `name`, or `fallback` when unset. */
export function readPort(env: EnvReader, name: string, fallback: number): number {
  const raw = env.get(name)?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a TCP port number (0-65535), not "${raw}".`);
  }
  return port;
}

/** A positive number from `name`, or `fallback` when unset. */
export function readPositiveNumber(env: EnvReader, name: string, fallback: number): number {
  const raw = env.get(name)?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number, not "${raw}".`);
  }
  return value;
}

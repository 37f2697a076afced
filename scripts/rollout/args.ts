// A small option parser for the rollout CLI: positional words and `--name value` / `--name=value`
// options, each command declaring which options it takes, so a typo is an error, not ignored.
import { CliError } from "../lib/database.ts";

export type OptionKind = "string" | "boolean";
export type OptionSpec = Record<string, OptionKind>;

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | boolean>;
}

export function parseArgs(args: string[], spec: OptionSpec, usage: string): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const kind = spec[name];
    if (!kind) throw new CliError(`unknown option "--${name}".\n${usage}`, 2);
    if (kind === "boolean") {
      if (inline !== undefined) throw new CliError(`--${name} takes no value.\n${usage}`, 2);
      options[name] = true;
    } else {
      const value = inline ?? args[++i];
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new CliError(`--${name} needs a value.\n${usage}`, 2);
      }
      options[name] = value;
    }
  }
  return { positional, options };
}

export const stringOption = (parsed: ParsedArgs, name: string) =>
  typeof parsed.options[name] === "string" ? parsed.options[name] as string : undefined;

const DURATION_UNITS: Record<string, number> = { "": 1, s: 1, m: 60, min: 60, h: 3600, d: 86_400 };

/** A duration option in seconds: a whole number with an optional unit, `90`, `90s`, `15m`, `24h`, `3d`. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d{1,7})\s*(s|m|min|h|d)?$/.exec(value.trim());
  if (!match) {
    throw new CliError(
      `${option} "${value}" is not a duration: give a whole number with s, m, h or d (e.g. 90s, 15m, 24h, 3d).`,
      2,
    );
  }
  return Number(match[1]) * DURATION_UNITS[match[2] ?? ""];
}

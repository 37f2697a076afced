// Command-line options of the benchmarks (`deno task bench <name> --cases 1000 ...`).

/** `--name N` as a positive whole number, `fallback` when the option is not given. */
export function numberOption(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

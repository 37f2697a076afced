// Whop sends amounts in decimal currency units (29.99), the database keeps integer minor units
// (2999). The conversion works on the decimal text, never on float products, so 29.99 cannot turn
// into 2998 and float noise such as 0.30000000000000004 rounds away at the currency's exponent.
import { EnvelopeError } from "./envelope_error.ts";

const ISO_CURRENCIES = new Set(Intl.supportedValuesOf("currency").map((code) => code.toLowerCase()));

/** Codes in Whop's `Currency` enum that are not ISO 4217 currencies (crypto, Whop balance, gold).
 * They have no agreed minor unit, so their amounts are not converted (the USD equivalent is used
 * where Whop sends one). */
export const WHOP_NON_ISO_CURRENCIES: ReadonlySet<string> = new Set([
  "eth",
  "ape",
  "btc",
  "usdt",
  "whop_usd",
  "xau",
]);

const MAX_AMOUNT_TEXT = 40;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export type CurrencyCode =
  | { kind: "iso"; code: string; exponent: number }
  | { kind: "whop_non_iso"; code: string };

/** Lowercases and checks a currency code; `field` names it in the error. */
export function checkCurrency(raw: string, field = "currency"): CurrencyCode {
  const code = raw.trim().toLowerCase();
  if (WHOP_NON_ISO_CURRENCIES.has(code)) return { kind: "whop_non_iso", code };
  if (!ISO_CURRENCIES.has(code)) throw new EnvelopeError(field, "is not a known currency code");
  return { kind: "iso", code, exponent: currencyExponent(code) };
}

const exponents = new Map<string, number>();

/** Digits after the decimal point (JPY 0, USD 2, KWD 3), as Intl (CLDR) defines them. */
export function currencyExponent(isoCode: string): number {
  let exponent = exponents.get(isoCode);
  if (exponent === undefined) {
    const format = new Intl.NumberFormat("en", { style: "currency", currency: isoCode });
    exponent = format.resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(isoCode, exponent);
  }
  return exponent;
}

/** `toMinorUnits(29.99, "usd")` → 2999, `toMinorUnits("500", "jpy")` → 500. Throws EnvelopeError for
 * negative, non-finite, malformed or unsafe amounts and for unknown or non-ISO currencies. */
export function toMinorUnits(amount: number | string, currency: string): number {
  const code = checkCurrency(currency);
  if (code.kind !== "iso") throw new EnvelopeError("currency", "has no minor unit");
  return decimalToMinorUnits(amount, code.exponent, "amount");
}

/** The conversion itself, with `field` naming the amount in errors. */
export function decimalToMinorUnits(amount: number | string, exponent: number, field: string): number {
  const match = DECIMAL.exec(decimalText(amount, field));
  if (!match) throw new EnvelopeError(field, "must be a decimal number");
  const [, whole, fraction = ""] = match;
  const kept = fraction.padEnd(exponent, "0").slice(0, exponent);
  const roundUp = fraction.length > exponent && fraction[exponent] >= "5";
  const minor = BigInt(whole + kept) + (roundUp ? 1n : 0n);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new EnvelopeError(field, "is too large");
  return Number(minor);
}

function decimalText(amount: number | string, field: string): string {
  if (typeof amount === "number") {
    if (!Number.isFinite(amount)) throw new EnvelopeError(field, "must be a finite number");
    if (amount < 0) throw new EnvelopeError(field, "must not be negative");
    if (amount >= 1e21) throw new EnvelopeError(field, "is too large");
    // String() is the shortest decimal that reads back as the same double: what the sender wrote.
    const text = String(amount);
    return text.includes("e") ? amount.toFixed(20) : text;
  }
  if (typeof amount !== "string") throw new EnvelopeError(field, "must be a number or a decimal string");
  if (amount.startsWith("-")) throw new EnvelopeError(field, "must not be negative");
  if (amount.length > MAX_AMOUNT_TEXT) {
    throw new EnvelopeError(field, `is longer than ${MAX_AMOUNT_TEXT} characters`);
  }
  return amount;
}

// Amounts are stored in integer minor units; members read them as "$29.99" or "¥500". The decimal is
// built from the integer's digits (not by float division), so large amounts format exactly.
import { checkCurrency } from "../whop/money.ts";

const formats = new Map<string, Intl.NumberFormat>();

/** `formatAmount(2999, "usd")` → "$29.99", `formatAmount(500, "jpy")` → "¥500". Throws RangeError for a
 * negative or non-integer amount and for currencies without a minor unit (unknown, crypto, Whop's own). */
export function formatAmount(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
    throw new RangeError("formatAmount: amountMinor must be a non-negative integer");
  }
  const exponent = isoExponent(currency);
  const digits = String(amountMinor).padStart(exponent + 1, "0");
  const decimal = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return formatFor(currency.trim().toUpperCase(), exponent).format(decimal as `${number}`);
}

function isoExponent(currency: string): number {
  try {
    const code = checkCurrency(currency);
    if (code.kind === "iso") return code.exponent;
  } catch {
    // Reported below with a message of our own.
  }
  throw new RangeError(`formatAmount: "${currency}" is not an ISO currency with a minor unit`);
}

function formatFor(code: string, exponent: number): Intl.NumberFormat {
  let format = formats.get(code);
  if (!format) {
    format = new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: code,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    formats.set(code, format);
  }
  return format;
}

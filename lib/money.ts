/**
 * Stripe amounts are integers in the currency's minor unit (cents for USD, yen for
 * JPY). Intl knows how many minor digits each currency has, so the amount is scaled
 * by that, never by a fixed 100.
 */
export function formatAmount(
  minorAmount: number,
  currency: string,
  locale = "en-US",
): string {
  const formatter = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: currency.toUpperCase(),
  });
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(minorAmount / 10 ** digits);
}

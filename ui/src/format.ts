/** Number and rate formatting for tables and charts. */
export const formatCount = (n: number | undefined): string =>
  n === undefined ? "" : n.toLocaleString("en-US");

export const formatRate = (rate: number): string =>
  `${rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)}/s`;

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

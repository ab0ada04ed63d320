/** A byte count in decimal megabytes, as download sizes are given: "12.3 MB". */
export function formatMegabytes(bytes: number, fractionDigits = 1): string {
  return `${(bytes / 1e6).toFixed(fractionDigits)} MB`;
}

/** A transfer rate in decimal megabytes per second: "1.5 MB/s". */
export function formatMegabytesPerSec(bytesPerSec: number): string {
  return `${(bytesPerSec / 1e6).toFixed(1)} MB/s`;
}

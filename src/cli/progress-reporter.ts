/**
 * A progress bar on a terminal; on anything else (a log file, systemd) one line at the start and
 * one at the end, so logs stay readable.
 */
export function createProgressReporter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const isTty = stream.isTTY === true;
  let lastPercent = -1;
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) {
        started = true;
        if (!isTty) stream.write(`${label}...\n`);
      }
      if (!isTty || total <= 0) return;
      const percent = Math.floor((done / total) * 100);
      if (percent === lastPercent) return;
      lastPercent = percent;
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      stream.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${percent}%`);
    },
    /** Writes the summary only if there was progress to report (a cached result had none). */
    finish(summary: string) {
      if (!started) return;
      if (isTty) stream.write("\r\x1b[K");
      stream.write(`${summary}\n`);
    },
  };
}

/** Where the broker says things. Never handed a secret: callers pass identifiers and reasons only. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`latchkey: ${message}\n`),
  warn: (message) => process.stderr.write(`latchkey: warning: ${message}\n`),
  error: (message) => process.stderr.write(`latchkey: error: ${message}\n`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

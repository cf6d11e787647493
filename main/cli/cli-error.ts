/** A command failed for a reason the user can act on: printed as one line, exit code 1 (2 for usage). */
export class CliError extends Error {
  /** `code`: the broker's error code when the broker refused (e.g. `weak_passphrase`), for a caller that reacts to it. */
  constructor(message: string, readonly exitCode = 1, readonly code?: string) {
    super(message);
    this.name = 'CliError';
  }
}

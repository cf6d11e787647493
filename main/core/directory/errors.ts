import type { z } from 'zod';

/** A bad admin request: the message names the problem and is safe to show; nothing was written. */
export class DirectoryError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = 'DirectoryError';
  }

  static fromZod(error: z.ZodError): DirectoryError {
    const issue = error.issues[0];
    const where = issue && issue.path.length ? `${issue.path.join('.')}: ` : '';
    return new DirectoryError(`${where}${issue?.message ?? 'invalid request'}`);
  }
}

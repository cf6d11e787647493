import { CliError } from './cli-error.js';
import { CREDENTIAL_OPTIONS, obtainCredential, parseFlags } from './agent-credential.js';

/**
 * `latchkey token`: the access token alone on stdout, so that `$(latchkey token …)` is the credential;
 * with --json, the broker's token response. Nothing else is printed on success.
 */
export async function runToken(args: string[]): Promise<number> {
  const values = parseFlags(args, { ...CREDENTIAL_OPTIONS, json: { type: 'boolean' } });
  const credential = await obtainCredential(values);
  if (!credential.accessToken) throw new CliError('the broker issued an empty credential');
  process.stdout.write(values.json === true ? `${JSON.stringify(credential.response, null, 2)}\n` : `${credential.accessToken}\n`);
  return 0;
}

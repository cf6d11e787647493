import { parseArgs } from 'node:util';
import { LatchkeyClient, LatchkeyError, LatchkeyOAuthError, credentialsFromEnv, type Credential } from '../../client/index.js';
import { CliError } from './cli-error.js';
import { resolveDataDir } from './data-dir.js';

/** What `token` and `exec` both take: which credential, for whom, from which broker. */
export const CREDENTIAL_OPTIONS = {
  resource: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'as-user': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** node:util parseArgs, strict, with its long messages cut to the first sentence (which names the flag). */
export function parseFlags(args: string[], options: OptionSpec): Record<string, unknown> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CliError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''), 2);
  }
}

/**
 * A fresh credential for the agent whose credentials are in the environment (LATCHKEY_CLIENT_ID and
 * LATCHKEY_CLIENT_SECRET, or LATCHKEY_API_KEY), from the broker of the data dir, over the socket its
 * runtime.json names. No admin token is involved: the agent is an OAuth client like any other.
 */
export async function obtainCredential(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<Credential> {
  const resource = values.resource;
  if (typeof resource !== 'string' || resource === '') throw new CliError('--resource is required', 2);
  const asUser = values['as-user'] as string | undefined;
  if (asUser === '') throw new CliError('--as-user must name a user (email or user id)', 2);
  try {
    const client = LatchkeyClient.fromDataDir(resolveDataDir(values['data-dir'] as string | undefined, env), credentialsFromEnv(env));
    return await client.getToken({ resource, scope: (values.scope as string[] | undefined) ?? [], ...(asUser === undefined ? {} : { asUser }) });
  } catch (error) {
    if (error instanceof LatchkeyOAuthError) {
      throw new CliError(`the broker refused${asUser === undefined ? '' : ` to act as ${asUser}`}: ${oneLine(error.message)}`);
    }
    if (error instanceof LatchkeyError) throw new CliError(oneLine(error.message));
    throw error;
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

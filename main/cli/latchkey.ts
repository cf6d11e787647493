import { parseArgs } from 'node:util';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { ADMIN_COMMANDS, type AdminCommand } from './commands.js';
import { resolveDataDir } from './data-dir.js';
import type { ServeOptions } from './serve.js';

/** Kept here, not imported from serve.ts: admin commands must not load the broker to start quickly. */
export const DEFAULT_PORT = 7433;
const SERVE_USAGE = `latchkey serve [--data-dir DIR] [--port N] [--socket PATH]    headless broker (port 0 = any free port; default ${DEFAULT_PORT}; socket default DATA_DIR/run/latchkey.sock)`;

/** The agent helpers (issue 4 item 4): loaded only when run, like serve. */
const AGENT_USAGE: Record<string, string> = {
  token: 'latchkey token --resource URI [--scope S]... [--as-user IDENT] [--json]   a fresh credential on stdout',
  exec: 'latchkey exec --resource URI [--scope S]... [--env NAME] [--as-user IDENT] -- COMMAND ARGS...   COMMAND with a fresh credential in $LATCHKEY_ACCESS_TOKEN (or NAME)',
};

function usage(): string {
  return ['Usage:', `  ${SERVE_USAGE}`, ...Object.values(AGENT_USAGE).map((line) => `  ${line}`), ...Object.values(ADMIN_COMMANDS).map((command) => `  ${command.usage}`),
    '', 'Every command takes --data-dir DIR (default: LATCHKEY_DATA_DIR, else the per-user app-data folder).',
    'token and exec authenticate as an application: LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET, or LATCHKEY_API_KEY.',
    'Once the owner passphrase is set (latchkey owner passphrase), what gives agents more power asks for it on this terminal only.'].join('\n');
}

const wantsHelp = (args: string[]): boolean => args.includes('--help') || args.includes('-h');

export interface MainOptions {
  /** For `serve`: printed once listening, e.g. by `npm start` to say where the UI is. */
  serveBanner?: ServeOptions['banner'];
}

/** The `latchkey` command. Returns the exit code; `serve` keeps running after it returns. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      process.stdout.write(`${usage()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === 'serve') {
      if (wantsHelp(argv)) return printUsage(SERVE_USAGE);
      const { values } = parse(argv.slice(1), { port: { type: 'string' }, socket: { type: 'string' } });
      const port = values.port === undefined ? DEFAULT_PORT : Number(values.port as string);
      if (values.port === '' || !Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError('--port must be a number from 0 to 65535', 2);
      if (values.socket === '') throw new CliError('--socket must name a path', 2);
      const { serve } = await import('./serve.js');
      await serve({ dataDir: resolveDataDir(values['data-dir'] as string | undefined), port, socket: values.socket as string | undefined, banner: options.serveBanner });
      return 0;
    }
    if (argv[0] === 'token' || argv[0] === 'exec') {
      // exec's own flags end at `--`: a --help after it is the command's.
      const ours = argv[0] === 'exec' && argv.includes('--') ? argv.slice(1, argv.indexOf('--')) : argv.slice(1);
      if (wantsHelp(ours)) return printUsage(AGENT_USAGE[argv[0]]!);
      if (argv[0] === 'token') return await (await import('./agent-token.js')).runToken(argv.slice(1));
      return await (await import('./agent-exec.js')).runExec(argv.slice(1));
    }
    const name = [argv.slice(0, 3), argv.slice(0, 2), argv.slice(0, 1)].map((words) => words.join(' ')).find((words) => ADMIN_COMMANDS[words]) ?? argv[0]!;
    const command = ADMIN_COMMANDS[name];
    if (!command) {
      const words = argv.slice(0, 2).filter((word) => !word.startsWith('-'));
      throw new CliError(`unknown command: ${words.join(' ')} (try latchkey --help)`, 2);
    }
    const args = argv.slice(name.split(' ').length);
    if (wantsHelp(args)) return printUsage(command.usage);
    const { values, positionals } = parse(args, command.options, command.positionals ?? 0);
    const dataDir = resolveDataDir(values['data-dir'] as string | undefined);
    // One client for the whole command: the owner's presence, once proven, covers its every call, and no other.
    let admin: AdminClient | undefined;
    const result = await runNamingFlags(command, values, positionals, () => (admin ??= AdminClient.forDataDir(dataDir)));
    const wantsJson = values.json === true || !command.human;
    process.stdout.write(`${wantsJson ? JSON.stringify(result, null, 2) : command.human!(result)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`latchkey: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`latchkey: ${(error as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}

function printUsage(line: string): number {
  process.stdout.write(`Usage: ${line}\n`);
  return 0;
}

/** Runs a command; a broker error about a request field is reworded to name the flag the user typed. */
async function runNamingFlags(command: AdminCommand, values: Record<string, unknown>, positionals: string[], client: () => AdminClient): Promise<unknown> {
  try {
    return await command.run(client, values, positionals);
  } catch (error) {
    if (error instanceof CliError && command.fields) throw new CliError(nameTheFlag(error.message, command.fields, values), error.exitCode);
    throw error;
  }
}

/**
 * "identity_type: Invalid option…" becomes "--kind: Invalid option…"; "resources.1: must be…" becomes
 * `--resource "x": must be…` (the second value given). Messages about anything else pass unchanged.
 */
export function nameTheFlag(message: string, fields: Readonly<Record<string, string>>, values: Record<string, unknown>): string {
  const match = /^([a-z_]+)((?:\.[\w-]+|\[\d+\])*): (.*)$/s.exec(message);
  const flag = match ? fields[match[1]!] : undefined;
  if (!match || !flag) return message;
  const index = /^(?:\.(\d+)|\[(\d+)\])$/.exec(match[2]!);
  const given = values[flag];
  const value = index && Array.isArray(given) ? (given[Number(index[1] ?? index[2])] as unknown) : undefined;
  const where = typeof value === 'string' ? `--${flag} ${JSON.stringify(value)}`
    : `--${flag}${match[2] ? ` (${match[2].replace(/^\./, '')})` : ''}`;
  return `${where}: ${match[3]}`;
}

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>, maxPositionals = 0): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...options, 'data-dir': { type: 'string' } }, strict: true, allowPositionals: maxPositionals > 0 });
    if (parsed.positionals.length > maxPositionals) throw new CliError(`unexpected argument: ${parsed.positionals[maxPositionals]}`, 2);
    return parsed;
  } catch (error) {
    if (error instanceof CliError) throw error;
    // node:util's messages are long; the first sentence names the flag.
    throw new CliError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''), 2);
  }
}

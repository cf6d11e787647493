import { parseArgs } from 'node:util';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { ADMIN_COMMANDS } from './commands.js';
import { resolveDataDir } from './data-dir.js';

/** Kept here, not imported from serve.ts: admin commands must not load the broker to start quickly. */
export const DEFAULT_PORT = 7433;
const SERVE_USAGE = `latchkey serve [--data-dir DIR] [--port N]    headless broker (port 0 = any free port; default ${DEFAULT_PORT})`;

function usage(): string {
  return ['Usage:', `  ${SERVE_USAGE}`, ...Object.values(ADMIN_COMMANDS).map((command) => `  ${command.usage}`),
    '', 'Every command takes --data-dir DIR (default: LATCHKEY_DATA_DIR, else the per-user app-data folder).'].join('\n');
}

/** The `latchkey` command. Returns the exit code; `serve` keeps running after it returns. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      process.stdout.write(`${usage()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === 'serve') {
      const { values } = parse(argv.slice(1), { port: { type: 'string' } });
      const port = values.port === undefined ? DEFAULT_PORT : Number(values.port as string);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError('--port must be a number from 0 to 65535', 2);
      const { serve } = await import('./serve.js');
      await serve({ dataDir: resolveDataDir(values['data-dir'] as string | undefined), port });
      return 0;
    }
    const name = ADMIN_COMMANDS[`${argv[0]} ${argv[1]}`] ? `${argv[0]} ${argv[1]}` : argv[0]!;
    const command = ADMIN_COMMANDS[name];
    if (!command) throw new CliError(`unknown command: ${argv.slice(0, 2).join(' ')} (try latchkey --help)`, 2);
    const { values, positionals } = parse(argv.slice(name.split(' ').length), command.options, command.positionals ?? 0);
    const dataDir = resolveDataDir(values['data-dir'] as string | undefined);
    const result = await command.run(() => AdminClient.forDataDir(dataDir), values, positionals);
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

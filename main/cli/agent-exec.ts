import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CliError } from './cli-error.js';
import { CREDENTIAL_OPTIONS, obtainCredential, parseFlags } from './agent-credential.js';

/** Where the child finds its credential unless --env names another variable. */
export const DEFAULT_CREDENTIAL_VARIABLE = 'LATCHKEY_ACCESS_TOKEN';

/** POSIX-portable environment variable names (what every shell can expand). */
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * What the child must not inherit: the long-lived secrets that mint credentials. The child gets one
 * short-lived credential for one resource; with these it could mint any credential the application may
 * have, for as long as the secret lives, and a child is often a tool that logs or forwards its environment.
 */
const WITHHELD_FROM_CHILD = ['LATCHKEY_CLIENT_SECRET', 'LATCHKEY_API_KEY'];

/** Signals passed on to the child: the ones that ask a program to stop. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `latchkey exec --resource URI [--env NAME] -- COMMAND ARGS…` (like `aws-vault exec`, `op run`): runs
 * COMMAND with a fresh credential in its environment, stdio inherited, and exits as it exits (128 + the
 * signal number when a signal ends it). The credential goes only into the child's environment: never
 * into an argv (anyone on the machine can read those in /proc) and never into our output.
 */
export async function runExec(args: string[]): Promise<number> {
  // Our flags end at the first `--`; everything after it is the command, untouched. Splitting here
  // rather than letting parseArgs read the whole line keeps the command's own flags (`-e`, `--help`)
  // from being taken for ours, and a `--` inside them is the command's.
  const end = args.indexOf('--');
  if (end === -1) throw new CliError('put the command after --: latchkey exec --resource URI -- COMMAND ARGS…', 2);
  const command = args.slice(end + 1);
  const values = parseFlags(args.slice(0, end), { ...CREDENTIAL_OPTIONS, env: { type: 'string' } });
  if (command.length === 0 || command[0] === '') throw new CliError('no command after --', 2);
  const variable = (values.env as string | undefined) ?? DEFAULT_CREDENTIAL_VARIABLE;
  if (!VARIABLE_NAME.test(variable)) throw new CliError(`--env must be an environment variable name (A-Z, 0-9, _; not starting with a digit), not ${JSON.stringify(variable)}`, 2);

  const credential = await obtainCredential(values);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of WITHHELD_FROM_CHILD) delete env[name];
  env[variable] = credential.accessToken;
  return runChild(command[0]!, command.slice(1), env);
}

function runChild(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'inherit', env });
    // Forwarded, not handled: we stay alive until the child has gone, so that its exit code is ours.
    // (From a terminal, Ctrl-C reaches the child directly too, so it may see SIGINT twice, as under
    // aws-vault or op run; a signal sent to latchkey alone reaches it once.)
    const forward = (signal: NodeJS.Signals): void => { child.kill(signal); };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = (): void => { for (const signal of FORWARDED_SIGNALS) process.off(signal, forward); };
    child.once('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      // The shells' convention: 127 when the command is not found, 126 when it cannot be run.
      if (error.code === 'ENOENT') reject(new CliError(`command not found: ${program}`, 127));
      else reject(new CliError(`cannot run ${program}: ${error.code ?? error.message}`, 126));
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

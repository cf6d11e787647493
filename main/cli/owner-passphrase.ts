// The owner passphrase at the command line (issue 12 §1): set at first run, changed with the current one,
// always typed on the controlling terminal (prompt.ts openOwnerTerminal), never read from anywhere an agent writes.
import type { OwnerView } from '../../shared/admin-api.js';
import type { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { openOwnerTerminal, type OwnerTerminal } from './prompt.js';

const MISMATCH = 'passphrases_differ';

/** What the owner is told while no passphrase is set: until then, the admin token alone can loosen. */
export const notSetNote = (uiUrl: string): string =>
  `No owner passphrase yet: until one is set, anything holding the admin token (an agent too) can give agents more power. Set one with \`latchkey owner passphrase\` in a terminal, or in the Latchkey UI (${uiUrl}).`;

/** A new passphrase, typed twice. */
async function askNewPassphrase(terminal: OwnerTerminal, prompt: string): Promise<string> {
  const first = await terminal.ask(prompt);
  if (!first) return '';
  if (first !== await terminal.ask('Repeat it: ')) throw new CliError('the two passphrases differ; nothing was changed', 1, MISMATCH);
  return first;
}

/**
 * `latchkey owner passphrase`: the first time, the new one twice; afterwards the current one first (which
 * proves the owner's presence for this one command), then the new one twice. A weak one is refused with the
 * broker's reason.
 */
export async function changeOwnerPassphrase(admin: AdminClient): Promise<OwnerView & { changed: boolean }> {
  const before = await admin.request<OwnerView>('GET', '/owner');
  const terminal = openOwnerTerminal();
  if (!terminal) throw new CliError(`the owner passphrase is typed on a terminal only: run this in a terminal, or set it in the Latchkey UI (${admin.uiUrl})`);
  try {
    let current: string | undefined;
    if (before.passphrase_set) {
      current = await terminal.ask('Current owner passphrase: ');
      await admin.provePresence(current);
    }
    const passphrase = await askNewPassphrase(terminal, before.passphrase_set ? 'New owner passphrase: ' : 'Owner passphrase: ');
    if (!passphrase) throw new CliError('the passphrase is empty; nothing was changed');
    await admin.request('POST', '/owner/passphrase', current === undefined ? { passphrase } : { passphrase, current_passphrase: current });
  } finally {
    terminal.close();
  }
  return { ...await admin.request<OwnerView>('GET', '/owner'), changed: before.passphrase_set };
}

/**
 * `latchkey setup`, once the owner exists: asks for the owner passphrase when there is a terminal and none
 * is set. Never fails setup: without a terminal, or when the owner skips it (Enter) or gives up, it says
 * how to set one later.
 */
export async function offerOwnerPassphrase(admin: AdminClient): Promise<void> {
  if ((await admin.request<OwnerView>('GET', '/owner')).passphrase_set) return;
  const terminal = openOwnerTerminal();
  if (!terminal) {
    process.stderr.write(`${notSetNote(admin.uiUrl)}\n`);
    return;
  }
  try {
    terminal.tell('Choose an owner passphrase: from now on, giving agents more power (approving, granting, resuming, creating) needs it, typed by you.');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const passphrase = await askNewPassphrase(terminal, 'Owner passphrase (Enter to skip): ');
        if (!passphrase) break;
        await admin.request('POST', '/owner/passphrase', { passphrase });
        terminal.tell('Owner passphrase set.');
        return;
      } catch (error) {
        if (!(error instanceof CliError) || (error.code !== 'weak_passphrase' && error.code !== MISMATCH)) throw error;
        terminal.tell(error.message);
      }
    }
    terminal.tell(notSetNote(admin.uiUrl));
  } finally {
    terminal.close();
  }
}

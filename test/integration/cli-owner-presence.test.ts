// Owner presence at the command line (issue 12 §1, DESIGN.md §9): once the owner has set a passphrase, a
// loosening command goes through only when the owner types it on the command's controlling terminal. The
// built CLI against a real `latchkey serve`; "a terminal" is a real pseudo-terminal (util-linux `script`),
// "no terminal" is a child in its own session with stdin piped, as an agent runs it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, latchkeyOnTerminal, requireFreshBuild, rowCounts, ServeProcess, stopAllChildren, type CliResult, type TerminalAnswer } from '../support/cli.js';

const OWNER = 'velvet-orbit-canyon-2931';
const NEW_OWNER = 'amber-lantern-fjord-7705';
const WRONG = 'quartz-meadow-pilot-5510';
const WEAK = 'qwerty123';

const PRESENCE_PROMPT = /Owner passphrase \(Latchkey asks[^:]*: /;
const typeOwner = (passphrase: string): TerminalAnswer[] => [{ after: PRESENCE_PROMPT, type: passphrase }];
const typeTwice = (first: RegExp, passphrase: string): TerminalAnswer[] => [{ after: first, type: passphrase }, { after: /Repeat it: /, type: passphrase }];

/** What the broker committed, less the audit log and the owner's own bookkeeping (wrong tries are counted and audited). */
function durableState(dataDir: string): Record<string, number> {
  return Object.fromEntries(Object.entries(rowCounts(dataDir)).filter(([table]) => !/audit|owner|presence|passphrase|attempt/.test(table)));
}

async function startServe(prefix: string): Promise<{ dataDir: string; serve: ServeProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  return { dataDir, serve: await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } }) };
}

/** The one line a refused command prints: no stack, no second line. */
function expectOneLine(result: CliResult): string {
  expect(result.code, result.stdout).not.toBe(0);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('latchkey owner presence', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let setup: CliResult;
  const cli = (args: string[], input?: string) => latchkey([...args, '--data-dir', dataDir], { input });
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const onTerminal = (args: string[], answers: TerminalAnswer[]) => latchkeyOnTerminal([...args, '--data-dir', dataDir], answers);
  const adminGet = async (path: string) => {
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    return (await fetch(`${serve.issuer}/api${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
  };
  const appNames = async () => (await cliJson<Array<{ name: string }>>('app', 'list')).map((app) => app.name);

  beforeAll(async () => {
    requireFreshBuild();
    ({ dataDir, serve } = await startServe('latchkey-cli-presence-'));
    setup = await cli(['setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com', '--json']);
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('setup without a terminal makes the owner, does not wait, and says how to set the owner passphrase', async () => {
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.json()).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(setup.stderr).toContain('latchkey owner passphrase');
    expect(setup.stderr).toContain(`${serve.issuer}/ui/`);
    expect(setup.stderr).toMatch(/admin token/);
    expect((await cliJson('owner', 'status')).passphrase_set).toBe(false);
  });

  it('before an owner passphrase is set, loosening works with the admin token alone, and owner status says so', async () => {
    const created = await cli(['app', 'create', '--name', 'Before the passphrase', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const status = await cli(['owner', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Owner passphrase: not set/);
    expect(status.stdout).toContain('latchkey owner passphrase');
  });

  it('owner passphrase needs a terminal: without one it refuses with one line and sets nothing', async () => {
    const refused = await cli(['owner', 'passphrase'], `${OWNER}\n${OWNER}\n`);
    expect(expectOneLine(refused)).toMatch(/terminal.*\/ui\//);
    expect((await cliJson('owner', 'status')).passphrase_set).toBe(false);
  });

  it('a weak owner passphrase is refused with the reason, and none is set', async () => {
    const weak = await onTerminal(['owner', 'passphrase'], typeTwice(/Owner passphrase: /, WEAK));
    expect(weak.code, weak.output).not.toBe(0);
    // The broker's reason, in words (zxcvbn-ts's warning or suggestion).
    expect(weak.output).toMatch(/latchkey: \S.{10,}/);
    expect((await cliJson('owner', 'status')).passphrase_set).toBe(false);
  });

  it('owner passphrase on a terminal sets it, typed twice and never echoed', async () => {
    const set = await onTerminal(['owner', 'passphrase'], typeTwice(/Owner passphrase: /, OWNER));
    expect(set.code, set.output).toBe(0);
    expect(set.output).toMatch(/Owner passphrase set/);
    expect(set.output).not.toContain(OWNER);
    expect(await cliJson('owner', 'status')).toMatchObject({ passphrase_set: true, failed_attempts: 0, locked_until: null });
  });

  it('with the passphrase set, a loosening command without a terminal refuses with one line naming the terminal and the UI, and changes nothing', async () => {
    const before = durableState(dataDir);
    const refused = await cli(['app', 'create', '--name', 'Sneaky agent', '--json']);
    const line = expectOneLine(refused);
    expect(line).toMatch(/owner/);
    expect(line).toMatch(/terminal/);
    expect(line).toContain(`${serve.issuer}/ui/`);
    expect(durableState(dataDir)).toEqual(before);
    expect(await appNames()).not.toContain('Sneaky agent');
  });

  it('tightening needs no owner: agents pause works without a terminal; agents resume without one is refused and they stay paused', async () => {
    const paused = await cli(['agents', 'pause', '--json']);
    expect(paused.code, paused.stderr).toBe(0);
    expect((await adminGet('/status')).agents_paused).toBe(true);
    expectOneLine(await cli(['agents', 'resume', '--json']));
    expect((await adminGet('/status')).agents_paused).toBe(true);
  });

  it('a passphrase piped to stdin is not read: the command still refuses and changes nothing', async () => {
    const before = durableState(dataDir);
    const piped = await cli(['app', 'create', '--name', 'Piped agent', '--json'], `${OWNER}\n`);
    expect(expectOneLine(piped)).toMatch(/terminal/);
    const resume = await cli(['agents', 'resume'], `${OWNER}\n`);
    expectOneLine(resume);
    expect(durableState(dataDir)).toEqual(before);
    expect(await appNames()).not.toContain('Piped agent');
    expect((await adminGet('/status')).agents_paused).toBe(true);
    expect((await cliJson('owner', 'status')).failed_attempts).toBe(0);
  });

  it('on a terminal, the owner types the passphrase once and the command goes through', async () => {
    const resumed = await onTerminal(['agents', 'resume'], typeOwner(OWNER));
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain('Agents resumed.');
    expect(resumed.output).not.toContain(OWNER);
    expect((await adminGet('/status')).agents_paused).toBe(false);

    const created = await onTerminal(['app', 'create', '--name', 'Owner-made agent'], typeOwner(OWNER));
    expect(created.code, created.output).toBe(0);
    expect(created.output).toContain('Application created: Owner-made agent');
    // Asked once for the one command, and the proof ended with it: the next command asks again.
    expect(created.output.match(PRESENCE_PROMPT)).toHaveLength(1);
    expect(await appNames()).toContain('Owner-made agent');
    expectOneLine(await cli(['app', 'create', '--name', 'Riding on the last proof']));
  });

  it('owner passphrase changes it with the current one first, then the new one twice', async () => {
    const changed = await onTerminal(['owner', 'passphrase'],
      [{ after: /Current owner passphrase: /, type: OWNER }, ...typeTwice(/New owner passphrase: /, NEW_OWNER)]);
    expect(changed.code, changed.output).toBe(0);
    expect(changed.output).toMatch(/Owner passphrase changed/);
    expect(changed.output).not.toContain(NEW_OWNER);

    const created = await onTerminal(['app', 'create', '--name', 'After the change'], typeOwner(NEW_OWNER));
    expect(created.code, created.output).toBe(0);
    expect(await appNames()).toContain('After the change');
  });
});

describe('latchkey owner presence: wrong passphrases', () => {
  let dataDir: string;
  const cli = (args: string[], input?: string) => latchkey([...args, '--data-dir', dataDir], { input });
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const onTerminal = (args: string[], answers: TerminalAnswer[]) => latchkeyOnTerminal([...args, '--data-dir', dataDir], answers);

  beforeAll(async () => {
    requireFreshBuild();
    ({ dataDir } = await startServe('latchkey-cli-presence-wrong-'));
    await cliJson('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    const set = await onTerminal(['owner', 'passphrase'], typeTwice(/Owner passphrase: /, OWNER));
    expect(set.code, set.output).toBe(0);
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a wrong passphrase on a terminal fails with one line, changes nothing, and is counted for the owner to see', async () => {
    const before = durableState(dataDir);
    const wrong = await onTerminal(['app', 'create', '--name', 'Guessed agent'], typeOwner(WRONG));
    expect(wrong.code, wrong.output).not.toBe(0);
    expect(wrong.output).toMatch(/latchkey: wrong owner passphrase; nothing was changed/);
    expect(durableState(dataDir)).toEqual(before);
    expect((await cliJson<Array<{ name: string }>>('app', 'list')).map((app) => app.name)).not.toContain('Guessed agent');
    const status = await cliJson('owner', 'status');
    expect(status.failed_attempts).toBe(1);
    expect(status.last_failed_at).toEqual(expect.any(String));
    expect((await cli(['owner', 'status'])).stdout).toMatch(/Wrong passphrases since the last right one: 1/);
  });

  it('changing the owner passphrase needs the current one: a wrong current one is refused before the new one is asked', async () => {
    const refused = await onTerminal(['owner', 'passphrase'], [{ after: /Current owner passphrase: /, type: WRONG }]);
    expect(refused.code, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/latchkey: (wrong owner passphrase|too many wrong owner passphrases)/);
    expect(refused.output).not.toMatch(/New owner passphrase/);
    expect((await cliJson('owner', 'status')).passphrase_set).toBe(true);
  });

  it('too many wrong passphrases: one line saying when to try again', async () => {
    let last = '';
    for (let attempt = 0; attempt < 12 && !/too many/.test(last); attempt++) {
      last = (await onTerminal(['app', 'create', '--name', 'Brute-forced agent'], typeOwner(WRONG))).output;
    }
    expect(last).toMatch(/latchkey: too many wrong owner passphrases: try again (in \d+ s \(at [^)]+\)|later); nothing was changed/);
    // The back-off is short at first (1 s): by now it may be over, but the wrong tries stay counted.
    expect((await cliJson('owner', 'status')).failed_attempts).toBeGreaterThanOrEqual(3);
  });
});

describe('latchkey setup on a terminal', () => {
  let dataDir: string;

  beforeAll(async () => {
    requireFreshBuild();
    ({ dataDir } = await startServe('latchkey-cli-presence-setup-'));
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks for the owner passphrase twice and sets it; a weak one is refused with the reason and asked again', async () => {
    const setup = await latchkeyOnTerminal(['setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com', '--data-dir', dataDir], [
      ...typeTwice(/Owner passphrase \(Enter to skip\): /, WEAK),
      ...typeTwice(/Owner passphrase \(Enter to skip\): /, OWNER),
    ]);
    expect(setup.code, setup.output).toBe(0);
    expect(setup.output).toMatch(/Owner created: Ada Lovelace/);
    expect(setup.output).toMatch(/Owner passphrase set/);
    expect(setup.output).not.toContain(OWNER);
    expect((await latchkeyJson(['owner', 'status', '--data-dir', dataDir])).passphrase_set).toBe(true);
  });
});

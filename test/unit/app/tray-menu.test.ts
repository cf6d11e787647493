// The tray menu says the state at a glance: pending approvals, whether agents are paused, the vault.
import { describe, expect, it } from 'vitest';
import { trayMenu, trayTooltip } from '../../../main/app/tray-menu.js';

const labels = (items: ReturnType<typeof trayMenu>) => items.map((item) => (item.kind === 'separator' ? '---' : item.label));

describe('tray menu', () => {
  it('in the quiet state: no approvals, agents running, vault unlocked', () => {
    const items = trayMenu({ pendingApprovals: 0, agentsPaused: false, vault: 'unlocked', vaultBackend: 'keychain' });
    expect(labels(items)).toEqual(['No pending approvals', '---', 'Pause all agents', 'Lock vault', '---', 'Open Latchkey', 'Quit Latchkey']);
    expect(items[0]).toMatchObject({ enabled: false });
    expect(items[2]).toMatchObject({ kind: 'checkbox', checked: false });
    expect(trayTooltip({ pendingApprovals: 0, agentsPaused: false, vault: 'unlocked', vaultBackend: 'keychain' })).toBe('Latchkey');
  });

  it('counts pending approvals, checks the pause, and offers to unlock a locked vault (in the UI, for a passphrase)', () => {
    const items = trayMenu({ pendingApprovals: 2, agentsPaused: true, vault: 'locked', vaultBackend: 'passphrase' });
    expect(items[0]).toEqual({ kind: 'action', action: 'approvals', label: '2 pending approvals…', enabled: true });
    expect(items[2]).toMatchObject({ checked: true });
    expect(items[3]).toEqual({ kind: 'action', action: 'unlock', label: 'Unlock vault…', enabled: true });
    expect(trayMenu({ pendingApprovals: 0, agentsPaused: false, vault: 'locked', vaultBackend: 'keychain' })[3]).toEqual({ kind: 'action', action: 'unlock', label: 'Unlock vault', enabled: true });
    expect(trayMenu({ pendingApprovals: 1, agentsPaused: false, vault: 'unlocked', vaultBackend: 'passphrase' })[0]).toMatchObject({ label: '1 pending approval…' });
    expect(trayTooltip({ pendingApprovals: 2, agentsPaused: true, vault: 'locked', vaultBackend: 'passphrase' })).toBe('Latchkey — agents paused — vault locked — 2 pending');
  });
});

// The tray menu says the state at a glance: pending approvals, whether agents are paused, the vault.
import { describe, expect, it } from 'vitest';
import { trayMenu, trayTooltip } from '../../../main/app/tray-menu.js';

const labels = (items: ReturnType<typeof trayMenu>) => items.map((item) => (item.kind === 'separator' ? '---' : item.label));

describe('tray menu', () => {
  it('in the quiet state: no approvals, agents running, vault unlocked', () => {
    const items = trayMenu({ pendingApprovals: 0, agentsPaused: false, vault: 'unlocked' });
    expect(labels(items)).toEqual(['No pending approvals', '---', 'Pause all agents', 'Lock vault', '---', 'Open Latchkey', 'Quit Latchkey']);
    expect(items[0]).toMatchObject({ enabled: false });
    expect(items[2]).toMatchObject({ kind: 'checkbox', checked: false });
    expect(trayTooltip({ pendingApprovals: 0, agentsPaused: false, vault: 'unlocked' })).toBe('Latchkey');
  });

  it('counts pending approvals, checks the pause, and offers no lock for a locked vault', () => {
    const items = trayMenu({ pendingApprovals: 2, agentsPaused: true, vault: 'locked' });
    expect(items[0]).toEqual({ kind: 'action', action: 'approvals', label: '2 pending approvals…', enabled: true });
    expect(items[2]).toMatchObject({ checked: true });
    expect(items[3]).toEqual({ kind: 'action', action: 'lock', label: 'Vault locked', enabled: false });
    expect(trayMenu({ pendingApprovals: 1, agentsPaused: false, vault: 'unlocked' })[0]).toMatchObject({ label: '1 pending approval…' });
    expect(trayTooltip({ pendingApprovals: 2, agentsPaused: true, vault: 'locked' })).toBe('Latchkey — agents paused — vault locked — 2 pending');
  });
});

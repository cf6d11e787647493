// Pure (no electron): unit-tested under Node. What the tray menu says, from the broker's state; tray.ts
// turns it into a native menu and routes the clicks.
import type { VaultStatus } from '../../shared/admin-api.js';

export interface TrayState {
  pendingApprovals: number;
  agentsPaused: boolean;
  vault: VaultStatus['state'];
  vaultBackend: VaultStatus['backend'];
}

/** `unlock` reopens a keychain vault at once; a passphrase vault is unlocked in the UI's settings. */
export type TrayAction = 'approvals' | 'pause' | 'lock' | 'unlock' | 'open' | 'quit';

export type TrayItem =
  | { kind: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { kind: 'checkbox'; action: TrayAction; label: string; checked: boolean }
  | { kind: 'separator' };

export function trayMenu(state: TrayState): TrayItem[] {
  const pending = state.pendingApprovals;
  return [
    { kind: 'action', action: 'approvals', label: pending === 0 ? 'No pending approvals' : `${pending} pending approval${pending === 1 ? '' : 's'}…`, enabled: pending > 0 },
    { kind: 'separator' },
    { kind: 'checkbox', action: 'pause', label: 'Pause all agents', checked: state.agentsPaused },
    state.vault === 'unlocked'
      ? { kind: 'action', action: 'lock', label: 'Lock vault', enabled: true }
      : { kind: 'action', action: 'unlock', label: state.vault === 'uninitialized' ? 'Set up the vault…' : state.vaultBackend === 'keychain' ? 'Unlock vault' : 'Unlock vault…', enabled: true },
    { kind: 'separator' },
    { kind: 'action', action: 'open', label: 'Open Latchkey', enabled: true },
    { kind: 'action', action: 'quit', label: 'Quit Latchkey', enabled: true },
  ];
}

/** The tray icon's tooltip: the state at a glance. */
export function trayTooltip(state: TrayState): string {
  const parts = ['Latchkey'];
  if (state.agentsPaused) parts.push('agents paused');
  if (state.vault !== 'unlocked') parts.push('vault locked');
  if (state.pendingApprovals > 0) parts.push(`${state.pendingApprovals} pending`);
  return parts.join(' — ');
}

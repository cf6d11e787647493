import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { trayMenu, trayTooltip, type TrayAction, type TrayState } from './tray-menu.js';
import { TRAY_ICON_PNG_BASE64 } from './tray-icon.js';

/**
 * The tray icon and its menu (tray-menu.ts says what it holds): pending approvals, "Pause all agents",
 * "Lock vault", open, quit. Rebuilt when the state changes.
 */
export class AppTray {
  private readonly tray: Tray;
  private last = '';

  constructor(private readonly state: () => TrayState, private readonly act: (action: TrayAction) => void) {
    const icon = nativeImage.createFromBuffer(Buffer.from(TRAY_ICON_PNG_BASE64, 'base64'));
    icon.setTemplateImage(true);
    this.tray = new Tray(icon);
    this.tray.on('click', () => this.act('open'));
    this.refresh();
  }

  refresh(): void {
    const state = this.state();
    const key = JSON.stringify(state);
    if (key === this.last) return;
    this.last = key;
    this.tray.setToolTip(trayTooltip(state));
    this.tray.setContextMenu(Menu.buildFromTemplate(trayMenu(state).map((item): MenuItemConstructorOptions => {
      if (item.kind === 'separator') return { type: 'separator' };
      if (item.kind === 'checkbox') return { type: 'checkbox', label: item.label, checked: item.checked, click: () => this.act(item.action) };
      return { label: item.label, enabled: item.enabled, click: () => this.act(item.action) };
    })));
  }

  destroy(): void {
    this.tray.destroy();
  }
}

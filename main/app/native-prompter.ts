import { Notification } from 'electron';
import type { ApprovalPrompt, Prompter } from '../core/consent/prompter.js';
import type { PromptQueue } from './prompt-queue.js';

/**
 * The core's Prompter port, for the desktop: each new approval goes to the consent window's queue, and a
 * system notification points to the window. What the limits keep out of the window stays pending in the
 * Approvals page (the tray counts it).
 */
export class NativePrompter implements Prompter {
  constructor(
    private readonly queue: PromptQueue,
    private readonly focusPrompt: () => void,
    private readonly changed: () => void,
  ) {}

  approvalRequested(prompt: ApprovalPrompt): void {
    const result = this.queue.offer(prompt);
    this.changed();
    if (result === 'rate_limited' || !Notification.isSupported()) return;
    const notification = new Notification({
      title: 'Latchkey: an agent asks for access',
      // Plain text: the application's name as registered (said to be unverified when it registered itself).
      body: `${prompt.applicationName}${prompt.verified ? '' : ' (unverified)'} asks to act for you. Answer in the Latchkey window.`,
      urgency: 'critical',
    });
    notification.on('click', () => this.focusPrompt());
    notification.show();
  }
}

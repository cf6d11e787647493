/**
 * An approval the user is asked for (issue 5 item 2): an agent without a browser asked, through OpenID
 * CIBA, to act for the user, and polls until the user answers. Plain data: a shell may show it in a native
 * window, the admin UI in a list.
 */
export interface ApprovalPrompt {
  id: string;
  clientId: string;
  /** The application's registered name: shown escaped, as the admin registered it. */
  applicationName: string;
  /** Registered by the admin; false for a client that registered itself (RFC 7591): its name proves nothing. */
  verified: boolean;
  userId: string;
  resources: string[];
  scopes: string[];
  /** CIBA §7.1: shown on both devices so the user can tell the request is the one they started. Shown escaped. */
  bindingMessage: string | null;
  /** The delegation chain the approval also covers (issue 4): who may act on, to which resource, with which scopes. */
  downstream: PromptHop[];
  createdAt: number;
  expiresAt: number;
}

/** One downstream hop as the user is shown it. */
export interface PromptHop {
  depth: number;
  clientId: string;
  applicationName: string;
  resource: string;
  scopes: string[];
}

/**
 * The port through which the approval queue asks the user (DESIGN.md §4). The shells implement it: the
 * desktop app with a native window, the headless broker with the admin API's live feed. The answer comes
 * back through the approval queue (`Approvals.approve` / `deny`), from whichever surface the user used;
 * an unanswered approval expires, which counts as a denial.
 */
export interface Prompter {
  /** Called once per new approval, after it is stored. Must not block; a failure is logged, never fatal. */
  approvalRequested(prompt: ApprovalPrompt): void;
}

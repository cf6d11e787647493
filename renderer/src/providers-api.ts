// The providers admin API, as the contract shared by the brokered-access change and the UI states it. That
// change adds these types to shared/admin-api.ts; until both are merged they are mirrored here, and a broker
// without the routes answers 404 (the resources page then says providers are not in this build).
import type { ResourceView } from '../../shared/admin-api.js';

export interface ProviderView {
  id: string;
  name: string;
  issuer: string | null;
  client_id: string;
  has_client_secret: boolean;
  scopes: string[];
  /** The owner's upstream account with this provider. */
  status: 'not_connected' | 'connected' | 'needs_attention';
  /** Why it needs attention, else null. Never a token. */
  attention: string | null;
  connected_at: string | null;
  created_at: string;
}

/** `POST /api/providers`: an issuer (discovery) or the endpoints; the client secret goes to the vault. */
export interface CreateProviderRequest {
  name: string;
  issuer?: string;
  endpoints?: { authorization_endpoint: string; token_endpoint: string; revocation_endpoint?: string };
  client_id: string;
  client_secret?: string;
  scopes?: string[];
}

/** A resource as a broker with brokered access lists it. */
export type ResourceWithProvider = ResourceView & { provider_id?: string | null; upstream_scopes?: string[] };

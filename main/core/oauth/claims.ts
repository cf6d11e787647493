/**
 * RFC 8693 §4.1: the actor, and inside it the actor before it (most recent outermost). Latchkey's actors
 * are applications: `sub` is the application's autonomous subject (`client:<client_id>`), `client_id` its id.
 */
export interface ActClaim {
  sub: string;
  client_id: string;
  act?: ActClaim | undefined;
}

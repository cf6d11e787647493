/** The issuer and the endpoint URLs derived from it: fixed once the listener knows its port. */
export class IssuerUrls {
  readonly token: string;
  readonly introspection: string;
  readonly revocation: string;
  readonly jwks: string;
  readonly authorization: string;
  readonly userinfo: string;
  readonly registration: string;
  readonly backchannelAuthentication: string;

  constructor(readonly issuer: string) {
    this.token = `${issuer}/oauth2/token`;
    this.introspection = `${issuer}/oauth2/token/introspect`;
    this.revocation = `${issuer}/oauth2/token/revoke`;
    this.jwks = `${issuer}/.well-known/jwks.json`;
    this.authorization = `${issuer}/oauth2/authorize`;
    this.userinfo = `${issuer}/oauth2/userinfo`;
    this.registration = `${issuer}/oauth2/register`;
    this.backchannelAuthentication = `${issuer}/oauth2/bc-authorize`;
  }

  /** Audiences a client assertion may name (RFC 7523 §3 item 3): the issuer or the token endpoint. */
  get assertionAudiences(): readonly string[] {
    return [this.issuer, this.token];
  }
}

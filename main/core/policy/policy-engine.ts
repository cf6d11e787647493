import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as CedarModule from '@cedar-policy/cedar-wasm/nodejs';
import type { TrustLevel } from '../../../shared/domain.js';

type Cedar = typeof CedarModule;

/** One action per issuance method (DESIGN.md §2), as `Action::"…"` in policies. */
export type PolicyAction = 'user_delegation' | 'refresh' | 'autonomous' | 'delegation_chain' | 'impersonation';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['user_delegation', 'refresh', 'autonomous', 'delegation_chain', 'impersonation'];

/** What Cedar is asked about one issuance: the principal, the action, the resource and the context. */
export interface PolicyRequest {
  app: { clientId: string; name: string; identityType: string; subType: string | null };
  trustLevel: TrustLevel;
  action: PolicyAction;
  resource: { identifier: string; name: string; credentialType: string };
  grantType: string;
  scopes: readonly string[];
  delegationDepth: number;
  /** The chain's client ids, most recent first (token exchange); empty otherwise. */
  actors: readonly string[];
  transport: 'tcp' | 'socket';
  user: { id: string; email: string } | null;
}

export interface PolicyDecision {
  decision: 'allow' | 'deny';
  /** The ids of the policies that determined it (none: nothing permitted it). */
  policies: string[];
}

/** A policy as the engine holds it: its id and its Cedar text (one statement). */
export interface PolicyText {
  id: string;
  text: string;
}

/** Why a policy text was refused: Cedar's message and where (1-based line, column) in the text given. */
export interface PolicyProblem {
  message: string;
  line: number | null;
  column: number | null;
}

export class PolicyInvalid extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map((problem) => (problem.line !== null ? `line ${problem.line}: ${problem.message}` : problem.message)).join('; '));
  }
}

/**
 * The schema and default policies ship as files next to this module's source (`main/core/policy/`);
 * compiled and bundled code runs from dist/, so look there first and then in the source tree above it.
 */
function policyFile(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  const beside = join(dir, name);
  if (existsSync(beside)) return readFileSync(beside, 'utf8');
  for (;;) {
    const candidate = join(dir, 'main', 'core', 'policy', name);
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`policy file ${name} not found`);
    dir = parent;
  }
}

/** The 1-based line and column of a character offset in a text. */
function lineOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

const problemsOf = (text: string, errors: ReadonlyArray<{ message: string; sourceLocations?: ReadonlyArray<{ start: number }> }>): PolicyProblem[] =>
  errors.map((error) => {
    const at = error.sourceLocations?.[0];
    const where = at ? lineOf(text, at.start) : null;
    return { message: error.message, line: where?.line ?? null, column: where?.column ?? null };
  });

const POLICY_SET_ID = 'latchkey';
const SCHEMA_ID = 'latchkey';
// Default policies name themselves with @id("…"); Cedar itself numbers statements, so read the annotation.
const ID_ANNOTATION = /@id\("([^"\\]+)"\)/;

/**
 * Cedar (`@cedar-policy/cedar-wasm`) for every issuance. The wasm module (~4 MB) is compiled once, when the
 * broker starts; the policy set is parsed once per change (`preparsePolicySet`) and each decision only passes
 * the request: a few entities built from what the grant already holds. Deny wins (Cedar's rule: any
 * satisfied forbid denies; otherwise a satisfied permit allows; otherwise deny).
 */
const DECISION_CACHE_SIZE = 4096;

export class PolicyEngine {
  private compiled: { cedar: Cedar; schema: string; defaults: readonly PolicyText[] } | undefined;
  /** Admin policies handed over before Cedar was compiled; parsed with the defaults when it is. */
  private pending: readonly PolicyText[] | undefined;
  private admin: readonly PolicyText[] = [];
  private inForce: Record<string, string> = {};
  /**
   * Decisions for the set in force, by every input of the request; emptied on every load. Cedar's answer is
   * a function of the policy set and the request alone (no clock, no state), so a repeated request — an
   * agent renewing the same token — costs a Map lookup instead of a trip through the wasm boundary.
   */
  private readonly decisions = new Map<string, PolicyDecision>();
  /** `mayPermit` answers for the set in force, by application and trust level; emptied on every load. */
  private readonly mayPermitCache = new Map<string, boolean>();

  /**
   * Compiles Cedar (~350 ms: the wasm module, then the schema) on first use, not at construction, so that a
   * broker is listening before it pays for it: `serve` warms it right after. Nothing is ever decided without
   * it: whatever needs Cedar compiles it first, synchronously. CommonJS build: it reads its .wasm beside
   * itself, so it stays out of the CLI bundle, and the admin commands never load it.
   */
  private get core(): { cedar: Cedar; schema: string; defaults: readonly PolicyText[] } {
    if (this.compiled) return this.compiled;
    const cedar = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as Cedar;
    const schema = policyFile('latchkey.cedarschema');
    const parsed = cedar.checkParseSchema(schema);
    if (parsed.type !== 'success') throw new Error(`the Cedar schema does not parse: ${parsed.errors.map((error) => error.message).join('; ')}`);
    if (cedar.preparseSchema(SCHEMA_ID, schema).type !== 'success') throw new Error('the Cedar schema could not be loaded');
    const statements = statementsOf(cedar, policyFile('defaults.cedar'));
    const defaults = statements.map((statement, index) => ({ id: ID_ANNOTATION.exec(statement)?.[1] ?? `default.${index}`, text: statement }));
    this.compiled = { cedar, schema, defaults };
    const pending = this.pending ?? [];
    this.pending = undefined;
    this.load(pending);
    return this.compiled;
  }

  private get cedar(): Cedar {
    return this.core.cedar;
  }

  get schema(): string {
    return this.core.schema;
  }

  get defaults(): readonly PolicyText[] {
    return this.core.defaults;
  }

  /** Compiles Cedar now, if it is not yet: called once the broker listens. */
  warm(): void {
    void this.core;
  }

  get adminPolicies(): readonly PolicyText[] {
    return this.admin;
  }

  /**
   * Parses and validates a text (one or more policies) against the schema without changing anything.
   * Throws PolicyInvalid naming the line of each problem; returns the statements it holds.
   */
  check(text: string): string[] {
    const statements = this.statements(text);
    if (statements.length === 0) throw new PolicyInvalid([{ message: 'no policy in the text', line: null, column: null }]);
    const validated = this.cedar.validate({ schema: this.schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
    if (validated.type !== 'success') throw new PolicyInvalid(problemsOf(text, validated.errors));
    // A policy the validator finds impossible (it can never apply, e.g. a User as principal) is a mistake
    // the admin should hear about now rather than discover when it fails to forbid: refused as well.
    const problems = [...validated.validationErrors, ...validated.validationWarnings];
    if (problems.length > 0) throw new PolicyInvalid(problemsOf(text, problems.map((error) => error.error)));
    return statements;
  }

  /**
   * Replaces the admin policies: the whole set (defaults + these) is parsed once, here. If it does not
   * parse, the set in force stays as it was.
   */
  load(admin: readonly PolicyText[]): void {
    if (!this.compiled) {
      // Parsed (and refused if it does not parse) when Cedar is compiled, before any decision.
      this.pending = [...admin];
      this.admin = [...admin];
      return;
    }
    const staticPolicies: Record<string, string> = {};
    for (const policy of [...this.defaults, ...admin]) staticPolicies[policy.id] = policy.text;
    const answer = this.cedar.preparsePolicySet(POLICY_SET_ID, { staticPolicies });
    if (answer.type !== 'success') throw new PolicyInvalid(answer.errors.map((error) => ({ message: error.message, line: null, column: null })));
    this.admin = [...admin];
    this.inForce = staticPolicies;
    this.mayPermitCache.clear();
    this.decisions.clear();
  }

  /**
   * Whether any request of this application for this action could be permitted, whatever the resource, the
   * scopes and the user (Cedar's partial evaluation with those unknown): false only when the set in force
   * denies it for certain. Impersonation asks this before it looks the user up, so that an application no
   * policy lets impersonate learns nothing of users. Cached until the set changes: one partial evaluation
   * (it parses the set: milliseconds) per application and set.
   */
  mayPermit(app: PolicyRequest['app'], trustLevel: TrustLevel, action: PolicyAction, known: { transport: 'tcp' | 'socket'; delegationDepth: number }): boolean {
    const key = `${action}\u0000${trustLevel}\u0000${known.transport}\u0000${known.delegationDepth}\u0000${app.clientId}`;
    const cached = this.mayPermitCache.get(key);
    if (cached !== undefined) return cached;
    const unknown = (name: string): CedarModule.CedarValueJson => ({ __extn: { fn: 'unknown', arg: name } });
    const principal = { type: 'Application', id: app.clientId };
    const answer = this.cedar.isAuthorizedPartial({
      principal, action: { type: 'Action', id: action }, resource: null,
      context: { grant_type: unknown('grant_type'), scopes: unknown('scopes'), delegation_depth: known.delegationDepth, actors: unknown('actors'), transport: known.transport, user: unknown('user') },
      policies: { staticPolicies: this.inForce },
      entities: [{
        uid: principal,
        attrs: { name: app.name, identity_type: app.identityType, trust_level: trustLevel, ...(app.subType !== null ? { sub_type: app.subType } : {}) },
        parents: [],
      }],
    });
    // Fail closed: an evaluation that fails permits nothing.
    const may = answer.type === 'residuals' && answer.response.decision !== 'deny';
    this.mayPermitCache.set(key, may);
    return may;
  }

  decide(request: PolicyRequest, options: { validateRequest?: boolean } = {}): PolicyDecision {
    const { app, resource, user } = request;
    const key = JSON.stringify([app.clientId, app.name, app.identityType, app.subType, request.trustLevel, request.action, resource.identifier, resource.name,
      resource.credentialType, request.grantType, request.scopes, request.delegationDepth, request.actors, request.transport, user?.id, user?.email, options.validateRequest === true]);
    const known = this.decisions.get(key);
    if (known) return known;
    if (!this.compiled) this.warm();
    const decision = this.evaluate(request, options);
    // Bounded: the oldest answer goes first. (A decision that failed to evaluate is a deny, cached too: the
    // same request fails the same way until the set changes.)
    if (this.decisions.size >= DECISION_CACHE_SIZE) this.decisions.delete(this.decisions.keys().next().value!);
    this.decisions.set(key, decision);
    return decision;
  }

  private evaluate(request: PolicyRequest, options: { validateRequest?: boolean }): PolicyDecision {
    const principal = { type: 'Application', id: request.app.clientId };
    const resource = { type: 'Resource', id: request.resource.identifier };
    const entities: CedarModule.EntityJson[] = [
      {
        uid: principal,
        attrs: {
          name: request.app.name, identity_type: request.app.identityType, trust_level: request.trustLevel,
          ...(request.app.subType !== null ? { sub_type: request.app.subType } : {}),
        },
        parents: [],
      },
      { uid: resource, attrs: { name: request.resource.name, credential_type: request.resource.credentialType }, parents: [] },
    ];
    const context: CedarModule.Context = {
      grant_type: request.grantType,
      scopes: request.scopes as string[],
      delegation_depth: request.delegationDepth,
      actors: request.actors as string[],
      transport: request.transport,
    };
    if (request.user) {
      const user = { type: 'User', id: request.user.id };
      entities.push({ uid: user, attrs: { email: request.user.email }, parents: [] });
      context.user = { __entity: user };
    }
    // The request is built here from typed values, so it is not validated against the schema on the hot
    // path (that doubles the cost); tests validate it.
    const answer = this.cedar.statefulIsAuthorized({
      principal, action: { type: 'Action', id: request.action }, resource, context, entities,
      preparsedPolicySetId: POLICY_SET_ID,
      ...(options.validateRequest ? { preparsedSchemaName: SCHEMA_ID, validateRequest: true } : { validateRequest: false }),
    });
    // Fail closed: an evaluation that fails is a deny, determined by nothing.
    if (answer.type !== 'success') return { decision: 'deny', policies: [] };
    return { decision: answer.response.decision, policies: answer.response.diagnostics.reason };
  }

  private statements(text: string): string[] {
    return statementsOf(this.cedar, text);
  }
}

function statementsOf(cedar: Cedar, text: string): string[] {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') throw new PolicyInvalid(problemsOf(text, parts.errors));
  if (parts.policy_templates.length > 0) throw new PolicyInvalid([{ message: 'templates are not supported', line: null, column: null }]);
  return parts.policies;
}

// Templates for common Cedar rules (the UI's policy editor): each is valid against
// main/core/policy/latchkey.cedarschema once its blanks are filled (test/integration/policy-templates.test.ts).
// Forbids, not permits: the defaults already permit what registrations and consents allow, and deny wins.

export interface PolicyTemplateInput {
  /** A resource identifier (a URI). */
  resource: string;
  /** An application's client id. */
  app: string;
  /** Scopes, for templates that name some. */
  scopes: string[];
}

export interface PolicyTemplate {
  id: string;
  title: string;
  /** What the rule does, in a sentence. */
  summary: string;
  /** Which blanks it needs filled. */
  needs: ReadonlyArray<keyof PolicyTemplateInput>;
  /** The Cedar text, with the blanks filled. */
  text: (input: PolicyTemplateInput) => string;
}

/** A Cedar string literal: quotes and backslashes escaped, control characters refused (no identifier has any). */
export function cedarString(value: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what is looked for
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a control character cannot go into a policy template');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export const POLICY_TEMPLATES: readonly PolicyTemplate[] = [
  {
    id: 'read-only',
    title: 'Read-only access to a resource',
    summary: 'Any request for this resource that asks for a scope beyond the read scopes listed is denied.',
    needs: ['resource', 'scopes'],
    text: ({ resource, scopes }) => [
      `// Read-only: only these scopes may be issued for ${resource.replace(/[\r\n]/g, ' ')}.`,
      `forbid (principal, action, resource == Resource::${cedarString(resource)})`,
      `unless { [${scopes.map(cedarString).join(', ')}].containsAll(context.scopes) };`,
    ].join('\n'),
  },
  {
    id: 'chain-depth-2',
    title: 'No delegation chain deeper than 2',
    summary: 'A token exchanged more than twice (user → agent → agent → agent) is denied, tighter than the default of 3.',
    needs: [],
    text: () => [
      '// No delegation chain longer than two exchanges.',
      'forbid (principal, action, resource)',
      'when { context.delegation_depth > 2 };',
    ].join('\n'),
  },
  {
    id: 'impersonation-one-app',
    title: 'Impersonation only for one application',
    summary: 'Whatever else permits it, no application but this one may act as a user in the background.',
    needs: ['app'],
    text: ({ app }) => [
      '// Impersonation for this application only; any other is denied even if a permit names it.',
      'forbid (principal, action == Action::"impersonation", resource)',
      `unless { principal == Application::${cedarString(app)} };`,
    ].join('\n'),
  },
  {
    id: 'socket-only',
    title: 'A resource reachable only over the local socket',
    summary: 'Requests for this resource over loopback HTTP are denied; processes of this user on the local socket are not.',
    needs: ['resource'],
    text: ({ resource }) => [
      `forbid (principal, action, resource == Resource::${cedarString(resource)})`,
      'unless { context.transport == "socket" };',
    ].join('\n'),
  },
  {
    id: 'block-app',
    title: 'Block an application',
    summary: 'Nothing is issued to this application, by any method, until the policy is removed.',
    needs: ['app'],
    text: ({ app }) => `forbid (principal == Application::${cedarString(app)}, action, resource);`,
  },
];

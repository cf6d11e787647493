// The delegation chain the audit page draws, read from audit rows as the broker writes them.
import { describe, expect, it } from 'vitest';
import { delegationPath } from '../../shared/delegation-path.js';

const row = (fields: { event?: string; client_id?: string | null; subject?: string | null; resource?: string | null; detail?: Record<string, unknown> | string | null }) => ({
  event: fields.event ?? 'token.issued',
  client_id: fields.client_id === undefined ? 'app_agent' : fields.client_id,
  subject: fields.subject === undefined ? 'usr_ada' : fields.subject,
  resource: fields.resource === undefined ? 'https://notes.example.test/api' : fields.resource,
  detail: fields.detail === undefined || fields.detail === null ? null : typeof fields.detail === 'string' ? fields.detail : JSON.stringify(fields.detail),
});

describe('delegation path of an audit row', () => {
  it('a user token (code, CIBA): user → application → resource', () => {
    expect(delegationPath(row({ detail: { scope: 'notes:read' } }))).toEqual([
      { kind: 'user', id: 'usr_ada' }, { kind: 'application', id: 'app_agent' }, { kind: 'resource', id: 'https://notes.example.test/api' },
    ]);
  });

  it('an autonomous token has no user: application → resource', () => {
    expect(delegationPath(row({ subject: 'client:app_agent' }))).toEqual([
      { kind: 'application', id: 'app_agent' }, { kind: 'resource', id: 'https://notes.example.test/api' },
    ]);
  });

  it('a three-hop exchange reads in the order the applications acted, from where the chain began', () => {
    const path = delegationPath(row({ client_id: 'app_c', resource: 'https://d.example.test/', detail: { subject: 'usr_ada', origin_client_id: 'app_m', subject_client_id: 'app_b', actors: ['app_c', 'app_b', 'app_a'], delegation_depth: 3 } }));
    expect(path?.map((step) => step.id)).toEqual(['usr_ada', 'app_m', 'app_a', 'app_b', 'app_c', 'https://d.example.test/']);
  });

  it('a row written before origin_client_id was recorded starts from the subject token\'s client', () => {
    const path = delegationPath(row({ client_id: 'app_a', detail: { subject: 'usr_ada', subject_client_id: 'app_m', actors: ['app_a'] } }));
    expect(path?.map((step) => step.id)).toEqual(['usr_ada', 'app_m', 'app_a', 'https://notes.example.test/api']);
  });

  it('a refused exchange (actors without the requester) still ends at the requester', () => {
    const path = delegationPath(row({ event: 'token.refused', client_id: 'app_d', detail: { subject: 'usr_ada', origin_client_id: 'app_m', actors: ['app_c', 'app_b'], requester: 'app_d' } }));
    expect(path?.map((step) => step.id)).toEqual(['usr_ada', 'app_m', 'app_b', 'app_c', 'app_d', 'https://notes.example.test/api']);
  });

  it('impersonation: the user, then the application acting for them', () => {
    const path = delegationPath(row({ detail: { subject: 'usr_ada', origin_client_id: 'app_agent', subject_client_id: 'app_agent', actors: ['app_agent'], impersonation: true } }));
    expect(path?.map((step) => step.kind)).toEqual(['user', 'application', 'resource']);
  });

  it('rows that are not issuances, or name no application or resource, have no path; a broken detail is ignored', () => {
    expect(delegationPath(row({ event: 'admin.resource_created' }))).toBeNull();
    expect(delegationPath(row({ client_id: null }))).toBeNull();
    expect(delegationPath(row({ resource: null }))).toBeNull();
    expect(delegationPath(row({ detail: '{not json' }))?.length).toBe(3);
  });
});

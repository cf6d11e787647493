// Policies: the Cedar rules every issuance is decided by. The defaults shipped with Latchkey (read-only
// here), the admin's own, an editor validated live against the schema (problems shown at their line),
// templates for common rules, and the what-if simulator.
import { useEffect, useMemo, useRef, useState, type FormEvent, type RefObject } from 'react';
import type { ApplicationView, ResourceView } from '../../../shared/admin-api.js';
import { POLICY_TEMPLATES, type PolicyTemplate, type PolicyTemplateInput } from '../../../shared/policy-templates.js';
import { api, ApiError, segment } from '../api.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { formatTime } from '../time.js';
import { messageOf, useRequest } from '../use-request.js';

interface DefaultPolicyView { id: string; text: string; default: true }
interface PolicyView { id: string; text: string; description: string | null; client_id: string | null; version: number; created_at: number }
interface PolicyListView { version: number; defaults: DefaultPolicyView[]; policies: PolicyView[] }
interface WhatIfView { decision: 'allow' | 'deny'; allowed: boolean; policies: string[] }

/** The issuance methods Cedar decides on (`Action::"…"`), as the what-if simulator offers them. */
const ACTIONS: ReadonlyArray<[string, string]> = [
  ['user_delegation', 'User delegation (authorization code, CIBA)'],
  ['refresh', 'Refresh'],
  ['autonomous', 'Autonomous (client credentials, API key, JWT bearer)'],
  ['delegation_chain', 'Delegation chain (token exchange)'],
  ['impersonation', 'Impersonation (background, local socket)'],
];

const VALIDATE_AFTER_MS = 400;

/** Problems as Cedar states them: "line 3: unexpected token; line 5: …", or one without a line. */
interface PolicyProblem { line: number | null; message: string }
function problemsOf(description: string): PolicyProblem[] {
  const found = [...description.matchAll(/line (\d+): (.*?)(?=; line \d+: |$)/gs)].map((match) => ({ line: Number(match[1]), message: match[2]!.trim() }));
  return found.length ? found : [{ line: null, message: description }];
}

type Validation = { state: 'empty' } | { state: 'checking' } | { state: 'valid'; statements: number } | { state: 'invalid'; problems: PolicyProblem[] } | { state: 'failed'; message: string };

export default function Page(_props: PageProps) {
  const list = useRequest(() => api.get<PolicyListView>('/policies'));
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [text, setText] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<PolicyView | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editorRef = useRef<HTMLTextAreaElement>(null);

  const remove = async (policy: PolicyView) => {
    setBusy(true);
    setRemoveError(null);
    try {
      await api.delete(`/policies/${segment(policy.id)}`);
      setRemoving(null);
      setNotice(`Policy ${policy.id} removed.`);
      await list.reload();
    } catch (caught) {
      setRemoveError(messageOf(caught));
      setRemoving(null);
    } finally {
      setBusy(false);
    }
  };

  const useTemplate = (filled: string) => {
    setText(filled);
    setNotice(null);
    editorRef.current?.focus();
  };

  return (
    <>
      <PageHeader title="Policies" description="The rules every issuance is decided by. Deny wins: a forbid overrides any permit." />
      {notice ? <Notice>{notice}</Notice> : null}
      <ErrorBanner message={list.error?.message} onRetry={() => void list.reload()} />
      <ErrorBanner message={removeError} />

      <section aria-labelledby="policy-list-heading">
        <h2 id="policy-list-heading">In force{list.data ? <span className="muted"> (version {list.data.version})</span> : null}</h2>
        {list.data ? (
          <ul className="policy-list">
            {list.data.defaults.map((policy) => (
              <li key={policy.id} className="policy-item">
                <div className="policy-meta"><span className="badge">Default</span> <code>{policy.id}</code></div>
                <pre className="policy-text">{policy.text}</pre>
              </li>
            ))}
            {list.data.policies.map((policy) => (
              <li key={policy.id} className="policy-item">
                <div className="policy-meta">
                  <span className="badge badge-ok">Yours</span> <code>{policy.id}</code>
                  {policy.description ? <span> — {policy.description}</span> : null}
                  <span className="muted"> · version {policy.version}, {formatTime(policy.created_at)}</span>
                  <button type="button" className="button-secondary policy-remove" onClick={() => setRemoving(policy)} aria-label={`Remove policy ${policy.id}`}>Remove</button>
                </div>
                <pre className="policy-text">{policy.text}</pre>
              </li>
            ))}
          </ul>
        ) : null}
        {list.data && list.data.policies.length === 0 ? (
          <EmptyState title="No policies of your own yet">The defaults above apply. Write one below, or start from a template.</EmptyState>
        ) : null}
      </section>

      <PolicyEditor text={text} setText={setText} editorRef={editorRef} onSaved={(policy) => { setText(''); setNotice(`Policy ${policy.id} saved: it is in force now.`); void list.reload(); }} />

      <Templates applications={applications.data ?? []} resources={resources.data ?? []} onUse={useTemplate} />

      <WhatIf applications={applications.data ?? []} resources={resources.data ?? []} />

      <ConfirmDialog open={removing !== null} title="Remove this policy?" confirmLabel="Remove policy" busy={busy}
        onConfirm={() => { if (removing) void remove(removing); }} onCancel={() => setRemoving(null)}>
        <p>Policy <code>{removing?.id}</code> stops applying at once. The audit log keeps the change.</p>
        {removing?.client_id ? <p>It is the impersonation permit of application <code>{removing.client_id}</code>: removing it stops that application impersonating users.</p> : null}
      </ConfirmDialog>
    </>
  );
}

function PolicyEditor({ text, setText, editorRef, onSaved }: {
  text: string; setText: (text: string) => void; editorRef: RefObject<HTMLTextAreaElement | null>; onSaved: (policy: PolicyView) => void;
}) {
  const [description, setDescription] = useState('');
  const [validation, setValidation] = useState<Validation>({ state: 'empty' });
  const [saveError, setSaveError] = useState<PolicyProblem[] | string | null>(null);
  const [busy, setBusy] = useState(false);
  const gutterRef = useRef<HTMLPreElement>(null);

  // Live validation, once typing pauses; an answer to an older text is dropped.
  useEffect(() => {
    setSaveError(null);
    if (text.trim() === '') {
      setValidation({ state: 'empty' });
      return;
    }
    let current = true;
    setValidation({ state: 'checking' });
    const timer = setTimeout(() => {
      api.post<{ valid: true; statements: number }>('/policies/validate', { text }).then(
        (answer) => { if (current) setValidation({ state: 'valid', statements: answer.statements }); },
        (caught: unknown) => {
          if (!current) return;
          if (caught instanceof ApiError && caught.code === 'invalid_policy') setValidation({ state: 'invalid', problems: problemsOf(caught.message) });
          else setValidation({ state: 'failed', message: messageOf(caught) });
        },
      );
    }, VALIDATE_AFTER_MS);
    return () => { current = false; clearTimeout(timer); };
  }, [text]);

  const problems = validation.state === 'invalid' ? validation.problems : Array.isArray(saveError) ? saveError : [];
  const badLines = useMemo(() => new Set(problems.map((problem) => problem.line).filter((line): line is number => line !== null)), [problems]);
  const lineCount = Math.max(text.split('\n').length, 6);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setSaveError(null);
    try {
      const saved = await api.post<PolicyView>('/policies', { text, ...(description.trim() ? { description: description.trim() } : {}) });
      setDescription('');
      onSaved(saved);
    } catch (caught) {
      setSaveError(caught instanceof ApiError && caught.code === 'invalid_policy' ? problemsOf(caught.message) : messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="editor-heading">
      <h2 id="editor-heading">New policy</h2>
      <form onSubmit={(event) => void save(event)} className="card">
        <ErrorBanner message={typeof saveError === 'string' ? saveError : Array.isArray(saveError) ? 'The policy was not saved: fix the problems shown at their lines.' : null} />
        <div className="field field-wide">
          <label htmlFor="policy-text">Cedar policy</label>
          <p id="policy-text-hint" className="field-hint">Checked against Latchkey&apos;s schema as you type. Entities: <code>Application::&quot;app_…&quot;</code>, <code>Resource::&quot;https://…&quot;</code>, <code>User::&quot;usr_…&quot;</code>.</p>
          <div className={badLines.size ? 'code-editor code-editor-invalid' : 'code-editor'}>
            <pre ref={gutterRef} className="code-gutter" aria-hidden="true">
              {Array.from({ length: lineCount }, (_, index) => <span key={index} className={badLines.has(index + 1) ? 'gutter-line gutter-bad' : 'gutter-line'}>{index + 1}{'\n'}</span>)}
            </pre>
            <textarea
              id="policy-text"
              ref={editorRef}
              className="code-input"
              value={text}
              onChange={(event) => setText(event.target.value)}
              onScroll={(event) => { if (gutterRef.current) gutterRef.current.scrollTop = event.currentTarget.scrollTop; }}
              rows={lineCount}
              spellCheck={false}
              autoCapitalize="off"
              autoComplete="off"
              wrap="off"
              aria-describedby="policy-text-hint policy-status"
              aria-invalid={problems.length > 0}
            />
          </div>
          <div id="policy-status" className="policy-status" aria-live="polite">
            {validation.state === 'checking' ? <span className="muted">Checking…</span> : null}
            {validation.state === 'valid' ? <span className="step-done">Valid: {validation.statements} {validation.statements === 1 ? 'statement' : 'statements'}.</span> : null}
            {validation.state === 'failed' ? <span className="field-error">Could not check: {validation.message}</span> : null}
            {problems.length ? (
              <ul className="policy-problems">
                {problems.map((problem, index) => <li key={index} className="field-error">{problem.line !== null ? <strong>Line {problem.line}: </strong> : null}{problem.message}</li>)}
              </ul>
            ) : null}
          </div>
        </div>
        <Field label="Description (optional)">{(control) => <input {...control} value={description} onChange={(event) => setDescription(event.target.value)} maxLength={500} autoComplete="off" />}</Field>
        <div className="button-row">
          <button type="submit" disabled={busy || text.trim() === '' || validation.state === 'invalid'}>Save policy</button>
          {text ? <button type="button" className="button-secondary" onClick={() => setText('')}>Clear</button> : null}
        </div>
      </form>
    </section>
  );
}

function Templates({ applications, resources, onUse }: { applications: ApplicationView[]; resources: ResourceView[]; onUse: (text: string) => void }) {
  return (
    <section aria-labelledby="templates-heading">
      <h2 id="templates-heading">Templates</h2>
      <p className="muted">Common rules, ready to fill in. Using one puts it in the editor above, where you can change it before saving.</p>
      <div className="cards">
        {POLICY_TEMPLATES.map((template) => <TemplateCard key={template.id} template={template} applications={applications} resources={resources} onUse={onUse} />)}
      </div>
    </section>
  );
}

function TemplateCard({ template, applications, resources, onUse }: { template: PolicyTemplate; applications: ApplicationView[]; resources: ResourceView[]; onUse: (text: string) => void }) {
  const [resource, setResource] = useState('');
  const [app, setApp] = useState('');
  const [scopes, setScopes] = useState('');
  const chosenResource = resource || resources[0]?.identifier || 'https://api.example.com/';
  const chosenApp = app || applications[0]?.client_id || 'app_…';
  const readScopes = scopes.trim() ? scopes.split(/[\s,]+/).filter(Boolean)
    : (resources.find((entry) => entry.identifier === chosenResource)?.scopes.filter((scope) => /read/i.test(scope)) ?? []);
  const input: PolicyTemplateInput = { resource: chosenResource, app: chosenApp, scopes: readScopes.length ? readScopes : ['read'] };
  return (
    <div className="card template-card">
      <h3>{template.title}</h3>
      <p className="muted">{template.summary}</p>
      {template.needs.includes('resource') ? (
        <Field label="Resource">
          {(control) => resources.length
            ? <select {...control} value={chosenResource} onChange={(event) => setResource(event.target.value)}>{resources.map((entry) => <option key={entry.identifier} value={entry.identifier}>{entry.name}</option>)}</select>
            : <input {...control} value={resource} onChange={(event) => setResource(event.target.value)} placeholder="https://api.example.com/" autoComplete="off" />}
        </Field>
      ) : null}
      {template.needs.includes('scopes') ? (
        <Field label="Read scopes" hint={`Allowed: ${input.scopes.join(' ')}`}>
          {(control) => <input {...control} value={scopes} onChange={(event) => setScopes(event.target.value)} placeholder={input.scopes.join(' ')} autoComplete="off" />}
        </Field>
      ) : null}
      {template.needs.includes('app') ? (
        <Field label="Application">
          {(control) => applications.length
            ? <select {...control} value={chosenApp} onChange={(event) => setApp(event.target.value)}>{applications.map((entry) => <option key={entry.client_id} value={entry.client_id}>{entry.name}</option>)}</select>
            : <input {...control} value={app} onChange={(event) => setApp(event.target.value)} placeholder="app_…" autoComplete="off" />}
        </Field>
      ) : null}
      <button type="button" className="button-secondary" onClick={() => { try { onUse(template.text(input)); } catch { /* a control character: nothing to insert */ } }} aria-label={`Use template: ${template.title}`}>Use template</button>
    </div>
  );
}

function WhatIf({ applications, resources }: { applications: ApplicationView[]; resources: ResourceView[] }) {
  const [app, setApp] = useState('');
  const [resource, setResource] = useState('');
  const [action, setAction] = useState('autonomous');
  const [scopes, setScopes] = useState('');
  const [user, setUser] = useState('');
  const [result, setResult] = useState<WhatIfView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosenApp = app || applications[0]?.client_id || '';
  const chosenResource = resource || resources[0]?.identifier || '';

  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    const scopeList = scopes.split(/[\s,]+/).filter(Boolean);
    try {
      setResult(await api.post<WhatIfView>('/policies/test', {
        app: chosenApp, resource: chosenResource, action, ...(scopeList.length ? { scopes: scopeList } : {}), ...(user.trim() ? { user: user.trim() } : {}),
      }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="whatif-heading">
      <h2 id="whatif-heading">What if…</h2>
      <p className="muted">Would this issuance be allowed by the policies in force, and which ones decide? Nothing is issued or recorded.</p>
      {applications.length === 0 || resources.length === 0 ? (
        <EmptyState title="Nothing to try yet">The simulator needs an application and a resource: add them first.</EmptyState>
      ) : (
        <form className="card" onSubmit={(event) => void ask(event)}>
          <ErrorBanner message={error} />
          <div className="form-grid">
            <Field label="Application">
              {(control) => <select {...control} value={chosenApp} onChange={(event) => setApp(event.target.value)}>{applications.map((entry) => <option key={entry.client_id} value={entry.client_id}>{entry.name}</option>)}</select>}
            </Field>
            <Field label="Resource">
              {(control) => <select {...control} value={chosenResource} onChange={(event) => setResource(event.target.value)}>{resources.map((entry) => <option key={entry.identifier} value={entry.identifier}>{entry.name}</option>)}</select>}
            </Field>
            <Field label="Method">
              {(control) => <select {...control} value={action} onChange={(event) => setAction(event.target.value)}>{ACTIONS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}</select>}
            </Field>
            <Field label="Scopes (optional)" hint="Space-separated; all of the resource's by default.">
              {(control) => <input {...control} value={scopes} onChange={(event) => setScopes(event.target.value)} autoComplete="off" />}
            </Field>
            <Field label="User (optional)" hint="An email address or user id, for a user's token.">
              {(control) => <input {...control} value={user} onChange={(event) => setUser(event.target.value)} autoComplete="off" />}
            </Field>
          </div>
          <div className="button-row"><button type="submit" disabled={busy}>Try it</button></div>
          <div aria-live="polite">
            {result ? (
              <div className={result.allowed ? 'banner banner-notice whatif-result' : 'banner banner-error whatif-result'}>
                <p><strong>{result.allowed ? 'Allowed' : 'Denied'}</strong>{result.policies.length ? <> — decided by {result.policies.map((id, index) => <span key={id}>{index ? ', ' : ''}<code>{id}</code></span>)}</> : ' — no policy permits it'}</p>
              </div>
            ) : null}
          </div>
        </form>
      )}
    </section>
  );
}

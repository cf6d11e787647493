// Placeholder: this page is built on this foundation by another change (see renderer/README.md).
import { EmptyState } from '../components/empty-state.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';

export default function Page(_props: PageProps) {
  return (
    <>
      <PageHeader title="Consents & approvals" description="What agents wait for, and what you have granted." />
      <EmptyState title="This page is not built yet">Until it is, the <code>latchkey</code> command does this from a terminal (<code>npx latchkey --help</code>).</EmptyState>
    </>
  );
}

import { EmptyState } from '../components/empty-state.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';

export default function Page(_props: PageProps) {
  return (
    <>
      <PageHeader title="Overview" />
      <EmptyState title="Coming next" />
    </>
  );
}

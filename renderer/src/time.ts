// Times as the UI shows them: the viewer's locale and time zone, to the second.
const FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An ISO string or epoch milliseconds, for people; '—' for none. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '—' : FORMAT.format(date);
}

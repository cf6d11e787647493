import type { ReactNode } from 'react';

export interface Column<T> {
  /** The column's header. */
  header: string;
  cell: (row: T) => ReactNode;
  /** Hidden on narrow windows (secondary detail). */
  secondary?: boolean;
}

/** A table of rows with a caption (read by screen readers); scrolls sideways on a narrow window. */
export function DataTable<T>({ caption, columns, rows, rowKey }: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string }) {
  return (
    <div className="table-scroll" role="region" aria-label={caption} tabIndex={0}>
      <table className="data-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>{columns.map((column) => <th key={column.header} scope="col" className={column.secondary ? 'secondary' : undefined}>{column.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => <td key={column.header} className={column.secondary ? 'secondary' : undefined}>{column.cell(row)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

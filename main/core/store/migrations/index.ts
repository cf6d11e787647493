// Migrations are numbered files, applied in order; a released one is never edited, only followed.
import { m001 } from './001-initial.js';

export const migrations: readonly string[] = [m001];

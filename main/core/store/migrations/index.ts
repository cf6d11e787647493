// Migrations are numbered files, applied in order; a released one is never edited, only followed.
import { m001 } from './001-initial.js';
import { m002 } from './002-user-delegation.js';
import { m003 } from './003-delegation-chains.js';
import { m004 } from './004-id-token-alg.js';
import { m005 } from './005-impersonation.js';
import { m006 } from './006-backchannel-authentication.js';
import { m007 } from './007-policies.js';
import { m008 } from './008-brokered-access.js';
import { m009 } from './009-first-run-sessions.js';
import { m010 } from './010-owner-passphrase.js';

export const migrations: readonly string[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010];

import { z } from 'zod';

/** A cell's, cluster's or deployment's name: safe in file names, argv and URLs. */
export const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (max 63)');

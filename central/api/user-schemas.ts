import { z } from 'zod';

/** Request bodies of the session and user routes (central/api/users.ts). */
const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a user name is 1 to 64 of A-Z a-z 0-9 . _ -');
const role = z.enum(['administrator', 'observer']);
const password = z.string().min(1).max(1024);

export const SignIn = z.strictObject({ name, password });
export const AddUser = z.strictObject({ name, role, password });
export const SetPassword = z.strictObject({ password });
